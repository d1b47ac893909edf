"""Browser pages for identity and communities."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from p2pcommons.errors import RuleViolation
from p2pcommons.i18n import SESSION_LANGUAGE, activate_community_zone
from p2pcommons.viewkit import safe_next

from . import selectors, services
from .blueprints import Blueprint, HistoryRow, all_blueprints, keys_in_use, keys_in_use_for, uses_of
from .forms import JoinRequestForm, ProfileForm
from .models import Community, Membership
from .sections import community_sections

COMMUNITIES_PER_PAGE = 20
MEMBERS_PER_PAGE = 30
# How many of the community's tools and skill offers its page shows (the rest are one
# link away, in the tools list and the skills directory filtered to it).
EXCHANGE_PREVIEW = 4
# A member's first steps stay unfolded this long after joining, folded after that.
NEW_MEMBER_DAYS = 30


def community_list_page(request: HttpRequest) -> HttpResponse:
    """Every community, with the ones the viewer belongs to marked."""
    page = Paginator(selectors.community_list(), COMMUNITIES_PER_PAGE).get_page(request.GET.get("page"))
    # The exchanges each community on the page uses (one query), named on its card.
    page.object_list = list(page.object_list)
    uses = uses_of(community_ids=[c.pk for c in page.object_list])
    for listed in page.object_list:
        listed.blueprints_used = [bp for bp in all_blueprints() if bp.key in uses[listed.pk]]
    mine = {m.community_id: m for m in selectors.memberships_of(user=request.user)}
    return render(request, "peers/community_list.html", {"page": page, "my_memberships": mine})


def community_detail(request: HttpRequest, slug: str) -> HttpResponse:
    community = get_object_or_404(selectors.community_list(), slug=slug)
    activate_community_zone(community)
    membership = selectors.membership_of(user=request.user, community=community)
    members_page = None
    # Members' names and profiles are for fellow members (and site superusers) only.
    if (membership and membership.status == Membership.Status.ACTIVE) or request.user.is_superuser:
        members_page = Paginator(selectors.community_members(community=community), MEMBERS_PER_PAGE).get_page(
            request.GET.get("page")
        )
    pending = None if membership else selectors.open_join_request(user=request.user, community=community)
    return _render_community(request, community, membership=membership, members_page=members_page, pending=pending)


def _exchange_preview(user, community, used: set[str]) -> dict:
    """The exchanges' sections of the community page (``apps.peers.sections``): a few of
    what the community offers, for its active members."""
    profile = getattr(user, "profile", None)
    return {
        "community_sections": community_sections(user=user, community=community, limit=EXCHANGE_PREVIEW, used=used),
        # "Set your name and area" is done once the profile has a name and a
        # neighborhood or a location.
        "profile_done": bool(profile and profile.display_name and (profile.neighborhood or profile.has_location)),
    }


def _render_community(request, community, *, membership, members_page, pending, join_form=None) -> HttpResponse:
    active = bool(membership and membership.status == Membership.Status.ACTIVE)
    used = keys_in_use(community_id=community.pk)
    context = {
        # The exchanges it uses, each linking to its blueprint page; organizers choose among all of them.
        "community_blueprints": [bp for bp in all_blueprints() if bp.key in used],
        "exchange_choices": [(bp, bp.key in used) for bp in all_blueprints()],
        "community": community,
        "membership": membership,
        "members_page": members_page,
        "i_organize": bool(membership and membership.is_organizer),
        "pending_request": pending,
        "join_form": join_form or JoinRequestForm(),
        "is_active_member": active,
        "is_new_member": active and membership.joined_at >= timezone.now() - timedelta(days=NEW_MEMBER_DAYS),
        **(_exchange_preview(request.user, community, used) if active else {}),
    }
    return render(request, "peers/community_detail.html", context, status=400 if join_form else 200)


@login_required
@require_POST
def community_join(request: HttpRequest, slug: str) -> HttpResponse:
    """Join an open community at once, or ask to join one whose organizers approve each
    newcomer (with a message to them)."""
    community = get_object_or_404(Community, slug=slug)
    if not community.requires_approval:
        services.community_join(community=community, user=request.user)
        messages.success(request, _("Welcome to %(community)s!") % {"community": community.name})
        return redirect(community)
    form = JoinRequestForm(request.POST)
    if form.is_valid():
        try:
            services.join_request_create(community=community, user=request.user, message=form.cleaned_data["message"])
        except RuleViolation as exc:
            messages.info(request, str(exc))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Your request is sent. The organizers will answer it soon."))
            return redirect(community)
    if form.errors:
        community = get_object_or_404(selectors.community_list(), slug=slug)
        return _render_community(
            request,
            community,
            membership=None,
            members_page=None,
            pending=selectors.open_join_request(user=request.user, community=community),
            join_form=form,
        )
    return redirect(community)


@login_required
@require_POST
def join_request_withdraw(request: HttpRequest, slug: str) -> HttpResponse:
    community = get_object_or_404(Community, slug=slug)
    pending = selectors.open_join_request(user=request.user, community=community)
    if pending is not None:
        try:
            services.join_request_withdraw(join_request=pending, actor=request.user)
        except RuleViolation as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Your request to join is withdrawn."))
    return redirect(community)


@login_required
@require_http_methods(["GET", "POST"])
def community_leave(request: HttpRequest, slug: str) -> HttpResponse:
    """GET asks for confirmation; POST leaves."""
    community = get_object_or_404(Community, slug=slug)
    membership = selectors.membership_of(user=request.user, community=community)
    if membership is None:
        messages.info(request, _("You are not a member of this community."))
        return redirect(community)
    if request.method == "POST":
        try:
            services.community_leave(community=community, user=request.user)
        except RuleViolation as exc:
            messages.error(request, str(exc))
            return redirect(community)
        messages.success(request, _("You left %(community)s.") % {"community": community.name})
        return redirect("peers:list")
    return render(request, "peers/community_leave.html", {"community": community})


@login_required
@require_POST
def member_promote(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    community = get_object_or_404(Community, slug=slug)
    membership = get_object_or_404(
        Membership.objects.select_related("user__profile"), pk=membership_id, community=community
    )
    try:
        services.membership_promote(membership=membership, actor=request.user)
    except RuleViolation as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(name)s is now an organizer.") % {"name": membership.user.public_name})
    return redirect(community)


def profile_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    """A member's profile: seen by themselves and by members who share a community with
    them; anyone else gets "not found", as for a missing one."""
    profile = selectors.visible_profile(viewer=request.user, user_id=user_id)
    if profile is None:
        raise Http404(_("No such member."))
    memberships = selectors.memberships_of(user=profile.user).filter(status=Membership.Status.ACTIVE)
    return render(
        request,
        "peers/profile_detail.html",
        {"profile": profile, "memberships": memberships, "history": _history(profile.user, request.user)},
    )


def _history(subject, viewer) -> list[tuple[Blueprint, list[HistoryRow]]]:
    """The person's record in each exchange their communities use, as the viewer may see
    it (each blueprint's ``history`` loader, a fixed number of queries), under its title."""
    used = keys_in_use_for(user=subject)
    found = []
    for bp in all_blueprints():
        if bp.key in used:
            rows = bp.history(subject=subject, viewer=viewer)
            if rows:
                found.append((bp, rows))
    return found


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest) -> HttpResponse:
    profile = services.profile_ensure(user=request.user)
    if request.method == "POST":
        form = ProfileForm(request.POST, request.FILES, instance=profile)
        if form.is_valid():
            data = dict(form.cleaned_data)
            if data.get("avatar") is False:  # "clear" ticked
                data["avatar"] = ""
            try:
                # A fresh copy: the bound form has already written onto ``profile``.
                saved = services.profile_update(
                    profile=services.profile_ensure(user=request.user),
                    actor=request.user,
                    latitude=data.pop("latitude"),
                    longitude=data.pop("longitude"),
                    clear_location=data.pop("clear_location"),
                    **data,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                remember_language(request, saved.language)
                # In the language just chosen: the next page is in it.
                with translation.override(saved.language or translation.get_language()):
                    messages.success(request, _("Your profile is saved."))
                response = redirect(saved)
                return remember_language_cookie(response, saved.language)
    else:
        form = ProfileForm(instance=profile)
    return render(request, "peers/profile_edit.html", {"form": form, "profile": profile})


def remember_language(request: HttpRequest, code: str) -> None:
    """Use ``code`` (or the browser's language when empty) from the next page on."""
    if code and code in dict(settings.LANGUAGES):
        request.session[SESSION_LANGUAGE] = code
    else:
        request.session.pop(SESSION_LANGUAGE, None)


def remember_language_cookie(response: HttpResponse, code: str) -> HttpResponse:
    if code and code in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=False
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
    return response


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """The language switcher at the foot of every page: a visitor's choice is kept in a
    cookie, a member's also on their profile (emails and notifications follow it)."""
    code = request.POST.get("language", "")
    if code not in dict(settings.LANGUAGES):
        messages.error(request, _("Choose one of the languages in the list."))
        return redirect(safe_next(request, default=reverse("front:home")))
    if request.user.is_authenticated:
        profile = services.profile_ensure(user=request.user)
        services.profile_update(profile=profile, actor=request.user, language=code)
        remember_language(request, code)
    response = redirect(safe_next(request, default=reverse("front:home")))
    return remember_language_cookie(response, code)


def about_developers(request: HttpRequest) -> HttpResponse:
    """For people who build apps on the site or want to check the ledger themselves: the
    API, its docs and the offline ledger check, kept off the neighbors' pages."""
    return render(request, "peers/about_developers.html")
