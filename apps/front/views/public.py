"""Pages for visitors: the home page with the four blueprints, the guide, and a page per
blueprint where an organizer starts or stops it for their community ("Use this blueprint").

The blueprints come from ``apps.peers.blueprints`` and their live figures from the cache in
``apps.front.figures``, so the home page runs a fixed, small number of queries whoever
visits and however many tools, trades or challenges there are.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.peers import selectors
from apps.peers.blueprints import Blueprint, all_blueprints, blueprint, in_use
from apps.peers.exchanges import exchange_start, exchange_stop
from apps.peers.models import Community, CommunityExchange, Membership
from p2pcommons.errors import RuleViolation
from p2pcommons.params import query_id

from ..figures import figures
from ..forms import BlueprintRulesForm, BlueprintStopForm, BlueprintUseForm
from ..page_cache import anonymous_page

# How many communities the home page shows (the rest are one link away).
HOME_COMMUNITIES = 6


def home(request: HttpRequest) -> HttpResponse:
    """The public home page: what p2pcommons is, the four blueprints with their live
    figures, the principles, a few communities to join and the way in. One query once the
    figures are cached (the communities with their member counts)."""
    shown = figures()
    cards = [{"bp": bp, "figure": shown.get(bp.key)} for bp in all_blueprints()]
    communities = list(selectors.community_list()[:HOME_COMMUNITIES])
    return render(request, "front/home_public.html", {"cards": cards, "communities": communities})


@anonymous_page
def guide(request: HttpRequest) -> HttpResponse:
    """The full guide to peer-to-peer projects: one printable page with a table of contents."""
    return render(request, "front/guide.html", {"blueprints": all_blueprints()})


def _known(key: str) -> Blueprint:
    found = blueprint(key)
    if found is None:
        raise Http404(_("There is no such blueprint."))
    return found


def _in_use_here(*, community_ids: list[int], key: str) -> dict[int, CommunityExchange]:
    """The exchange's rows in use in these communities, by community id (one query)."""
    rows = CommunityExchange.objects.filter(community_id__in=community_ids, key=key, stopped_at__isnull=True)
    return {row.community_id: row for row in rows}


def _page_context(request: HttpRequest, bp: Blueprint, *, use_form: BlueprintUseForm | None = None) -> dict:
    """What the blueprint page shows this person: the rules of their communities that use
    it, and what they may do about it (start it where they organize and it is not used
    yet, stop it where it is). Three queries for a member, none for a visitor."""
    context: dict = {"bp": bp, "figure": figures().get(bp.key), "member_rules": [], "organizes": False}
    if not request.user.is_authenticated:
        return context
    memberships = [m for m in selectors.memberships_of(user=request.user) if m.status == Membership.Status.ACTIVE]
    used = _in_use_here(community_ids=[m.community_id for m in memberships], key=bp.key)
    organized = [m.community for m in memberships if m.is_organizer]
    can_start = [c for c in organized if c.pk not in used]
    if use_form is None and can_start:
        use_form = BlueprintUseForm(communities=can_start, initial={"rules": bp.default_rules})
    elif use_form is not None:
        use_form.offer(can_start)
    context.update(
        member_rules=[
            {"community": m.community, "rules": used[m.community_id].rules or bp.default_rules}
            for m in memberships
            if m.community_id in used
        ],
        organizes=bool(organized),
        use_form=use_form if can_start else None,
        can_stop=[
            {
                "community": c,
                "form": BlueprintRulesForm(
                    auto_id=f"id_rules_{c.pk}_%s",
                    initial={"community": c.pk, "rules": used[c.pk].rules or bp.default_rules},
                ),
            }
            for c in organized
            if c.pk in used
        ],
    )
    return context


@anonymous_page
def blueprint_detail(request: HttpRequest, key: str) -> HttpResponse:
    """One blueprint: how it works, the rules that keep it fair, the organizer's
    checklist, its live figure, and "Use this blueprint". A visitor's copy comes from the
    cache (apps.front.page_cache)."""
    bp = _known(key)
    return render(request, f"front/blueprints/{bp.key}.html", _page_context(request, bp))


@login_required
@require_http_methods(["GET", "POST"])
def blueprint_use(request: HttpRequest, key: str) -> HttpResponse:
    """POST starts the exchange in a community (``action=start``, the default) or stops it
    (``action=stop``); GET asks the organizer to confirm stopping it (``?community=``).
    Organizers only, as the services say: anyone else is told so and nothing changes."""
    bp = _known(key)
    if request.method == "GET":
        return _confirm_stop(request, bp)
    if request.POST.get("action") == "stop":
        return _stop(request, bp)
    return _start(request, bp)


def _start(request: HttpRequest, bp: Blueprint) -> HttpResponse:
    form = BlueprintUseForm(request.POST)
    if not form.is_valid():
        chosen = form.cleaned_data.get("community")
        if chosen is None or not selectors.is_organizer(user=request.user, community_id=chosen.pk):
            messages.error(request, _("Choose one of the communities you organize."))
            return redirect("front:blueprint", key=bp.key)
        context = _page_context(request, bp, use_form=form)
        return render(request, f"front/blueprints/{bp.key}.html", context, status=400)
    community = form.cleaned_data["community"]
    was_in_use = in_use(community_id=community.pk, key=bp.key)
    try:
        exchange_start(community=community, key=bp.key, actor=request.user, rules=form.cleaned_data["rules"])
    except RuleViolation as exc:
        messages.error(request, str(exc))
        return redirect("front:blueprint", key=bp.key)
    if was_in_use:
        messages.success(
            request,
            _("The rules for %(title)s in %(community)s are saved.") % {"title": bp.title, "community": community.name},
        )
    else:
        messages.success(
            request, _("%(community)s now uses %(title)s.") % {"community": community.name, "title": bp.title}
        )
    return redirect(community)


def _stop(request: HttpRequest, bp: Blueprint) -> HttpResponse:
    form = BlueprintStopForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the community that should stop using it."))
        return redirect("front:blueprint", key=bp.key)
    community = form.cleaned_data["community"]
    try:
        stopped = exchange_stop(community=community, key=bp.key, actor=request.user)
    except RuleViolation as exc:
        messages.error(request, str(exc))
        return redirect("front:blueprint", key=bp.key)
    if stopped is None:
        messages.info(
            request, _("%(community)s does not use %(title)s.") % {"community": community.name, "title": bp.title}
        )
    else:
        messages.success(
            request,
            _("%(community)s no longer uses %(title)s. What was already agreed runs to its end.")
            % {"community": community.name, "title": bp.title},
        )
    return redirect(community)


def _confirm_stop(request: HttpRequest, bp: Blueprint) -> HttpResponse:
    community_id = query_id(request.GET, "community")
    if community_id is None:
        return redirect("front:blueprint", key=bp.key)
    community = get_object_or_404(Community, pk=community_id)
    if not selectors.is_organizer(user=request.user, community_id=community.pk):
        messages.error(request, _("Only an organizer of this community can choose its exchanges."))
        return redirect("front:blueprint", key=bp.key)
    if not _in_use_here(community_ids=[community.pk], key=bp.key):
        messages.info(
            request, _("%(community)s does not use %(title)s.") % {"community": community.name, "title": bp.title}
        )
        return redirect("front:blueprint", key=bp.key)
    return render(
        request,
        "front/blueprint_stop_confirm.html",
        {
            "bp": bp,
            "community": community,
            "form": BlueprintStopForm(initial={"community": community.pk}),
            "cancel_url": reverse("front:blueprint", args=[bp.key]),
        },
    )
