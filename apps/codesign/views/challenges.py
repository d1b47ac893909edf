"""A challenge's pages: the list, posting one (organizers), its page (brief, photos,
phase timeline, ideas with +1, comments), moving its phase (with a confirmation page),
following it, and adding pictures of the space."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from p2pcommons.i18n import activate_community_zone
from p2pcommons.viewkit import REFUSED, attempt, paginate, safe_next

from .. import selectors, services
from ..forms import ChallengeForm, ChallengePhotoForm, CommentForm, IdeaForm, StepForm, organized_communities
from ..markdown import render as markdown
from ..models import Challenge, ChallengePhoto, Comment, Follow, Idea, PlusOne, Proposal
from ..services.photos import challenge_photo_add as photo_add
from ..transitions import CHALLENGE
from .common import PER_PAGE, challenge_or_404, organizes, timeline

PH = Challenge.Phase


@login_required
@require_GET
def challenge_list(request: HttpRequest) -> HttpResponse:
    """The challenges of my communities: open ones first (ideas, proposals, voting,
    building), then the finished ones, newest first within each."""
    challenges = selectors.challenge_list(user=request.user).order_by(
        Case(When(phase=PH.DONE, then=Value(1)), default=Value(0), output_field=IntegerField()),
        "-created_at",
        "-pk",
    )
    page = paginate(request, challenges, PER_PAGE)
    can_post = organized_communities(request.user).exists()
    return render(request, "codesign/challenge_list.html", {"page": page, "can_post": can_post})


@login_required
@require_http_methods(["GET", "POST"])
def challenge_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not organized_communities(user).exists():
        messages.error(request, _("Only a community's organizers post design challenges. Ask one of yours."))
        return redirect("codesign:list")
    form = ChallengeForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        challenge = attempt(
            request,
            lambda: services.challenge_create(
                community=data["community"],
                actor=user,
                title=data["title"],
                brief=data["brief"],
                space=data["space"],
                constraints=data["constraints"],
                ideas_until=data["ideas_until"],
                proposals_until=data["proposals_until"],
                voting_until=data["voting_until"],
                budget=data["budget"],
                method=data["method"],
                dots=data["dots"],
                max_dots_per_proposal=data["max_dots_per_proposal"],
                live_totals=data["live_totals"],
            ),
            form=form,
        )
        if challenge is not REFUSED:
            messages.success(
                request,
                _("“%(title)s” is posted and open for ideas. Next: add a picture of the space as it is now.")
                % {"title": challenge.title},
            )
            return redirect(challenge)
    return render(request, "codesign/challenge_form.html", {"form": form})


def challenge_page(
    request: HttpRequest,
    challenge: Challenge,
    *,
    idea_form: IdeaForm | None = None,
    comment_form: CommentForm | None = None,
) -> HttpResponse:
    user = request.user
    activate_community_zone(challenge.community)
    photos = list(challenge.photos.all())
    ideas = list(selectors.ideas_of(challenge=challenge, user=user))
    plussed = set(PlusOne.objects.filter(idea__challenge=challenge, member=user).values_list("idea_id", flat=True))
    can_act = selectors.can_vote(user=user, challenge=challenge)
    counts = Proposal.objects.filter(challenge=challenge)
    context = {
        "challenge": challenge,
        "brief": markdown(challenge.brief),
        "before": [p for p in photos if p.kind == ChallengePhoto.Kind.BEFORE],
        "after": [p for p in photos if p.kind == ChallengePhoto.Kind.AFTER],
        "timeline": timeline(challenge),
        "events": list(challenge.events.select_related("actor__profile")),
        "buttons": CHALLENGE.buttons(challenge, user),
        "organizer": organizes(request, challenge),
        "following": Follow.objects.filter(challenge=challenge, member=user).exists(),
        "can_act": can_act,
        "ideas": ideas,
        "plussed": plussed,
        "idea_form": idea_form or IdeaForm(),
        "comments": selectors.comments_of(challenge=challenge, user=user),
        "comment_form": comment_form or CommentForm(),
        "proposal_count": selectors.proposals_readable(counts, user).exclude(status=Proposal.Status.DRAFT).count(),
        "totals_visible": services.totals_visible(challenge=challenge),
        "budget_left": services.budget_left(challenge=challenge),
    }
    return render(request, "codesign/challenge_detail.html", context)


@login_required
@require_GET
def challenge_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return challenge_page(request, challenge_or_404(request, pk))


@login_required
@require_http_methods(["GET", "POST"])
def challenge_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """GET asks to confirm the phase change; POST makes it (organizers)."""
    challenge = challenge_or_404(request, pk)
    action = CHALLENGE.by_name.get(step)
    if action is None:
        raise Http404("No such step.")
    form = StepForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = attempt(
            request,
            lambda: services.challenge_step(
                challenge=challenge, actor=request.user, step=step, note=form.cleaned_data["note"]
            ),
        )
        if done is not REFUSED:
            messages.success(
                request,
                _("“%(title)s” is now in its %(phase)s phase.")
                % {"title": done.title, "phase": done.get_phase_display().lower()},
            )
        return redirect(challenge)
    refusal = CHALLENGE.refusal(step, challenge, request.user)
    if refusal is not None:
        messages.error(request, str(refusal))
        return redirect(challenge)
    return render(request, "codesign/challenge_step.html", {"challenge": challenge, "action": action, "form": form})


@login_required
@require_POST
def challenge_follow(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow (``follow=1``) or stop following (``follow=0``) a challenge."""
    challenge = challenge_or_404(request, pk)
    if request.POST.get("follow") == "0":
        services.challenge_unfollow(challenge=challenge, member=request.user)
        messages.success(request, _("You no longer follow “%(title)s”.") % {"title": challenge.title})
    elif attempt(request, lambda: services.challenge_follow(challenge=challenge, member=request.user)) is not REFUSED:
        messages.success(
            request,
            _("You follow “%(title)s”: you are told of each new phase and comment.") % {"title": challenge.title},
        )
    return redirect(safe_next(request, challenge.get_absolute_url()))


@login_required
@require_http_methods(["GET", "POST"])
def challenge_photo_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Pictures of the space (organizers): before, and after the build."""
    challenge = challenge_or_404(request, pk)
    if not organizes(request, challenge):
        raise Http404("Only organizers add pictures of the space.")
    initial = {"kind": ChallengePhoto.Kind.AFTER if challenge.voting_closed else ChallengePhoto.Kind.BEFORE}
    form = ChallengePhotoForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        added = attempt(
            request,
            lambda: photo_add(
                challenge=challenge,
                actor=request.user,
                upload=data["image"],
                kind=data["kind"],
                alt_text=data["alt_text"],
            ),
            form=form,
        )
        if added is not REFUSED:
            messages.success(request, _("The picture is added."))
            return redirect("codesign:challenge-photo-add", challenge.pk)
    photos = list(challenge.photos.all())
    context = {"challenge": challenge, "photos": photos, "form": form, "most": ChallengePhoto.MAX_PER_KIND}
    return render(request, "codesign/challenge_photos.html", context)


@login_required
@require_POST
def idea_post(request: HttpRequest, pk: int) -> HttpResponse:
    challenge = challenge_or_404(request, pk)
    form = IdeaForm(request.POST)
    if form.is_valid():
        idea = attempt(
            request,
            lambda: services.idea_post(challenge=challenge, author=request.user, text=form.cleaned_data["text"]),
            form=form,
        )
        if idea is not REFUSED:
            messages.success(request, _("Your idea is posted. Neighbors can +1 it."))
            return redirect(f"{challenge.get_absolute_url()}#idea-{idea.pk}")
    return challenge_page(request, challenge, idea_form=form)


@login_required
@require_POST
def idea_plus_one(request: HttpRequest, pk: int) -> HttpResponse:
    idea = get_object_or_404(Idea.objects.select_related("challenge"), pk=pk)
    challenge = challenge_or_404(request, idea.challenge_id)
    if not selectors.ideas_of(challenge=challenge, user=request.user).filter(pk=idea.pk).exists():
        raise Http404("No such idea.")
    if attempt(request, lambda: services.idea_plus_one(idea=idea, member=request.user)) is not REFUSED:
        messages.success(request, _("You +1'd this idea."))
    return redirect(f"{challenge.get_absolute_url()}#idea-{idea.pk}")


@login_required
@require_POST
def comment_post(request: HttpRequest, pk: int) -> HttpResponse:
    """A comment on the challenge, or on one of its proposals (``proposal``), or a reply
    (``parent``). Without JavaScript it is a plain form post; what is refused is shown
    on the form again, with what was typed."""
    from .proposals import proposal_page

    challenge = challenge_or_404(request, pk)
    form = CommentForm(request.POST)
    proposal = parent = None
    if form.is_valid():
        if form.cleaned_data["proposal"]:
            readable = selectors.proposals_readable(Proposal.objects.filter(challenge=challenge), request.user)
            proposal = get_object_or_404(readable.visible_to(request.user), pk=form.cleaned_data["proposal"])
        if form.cleaned_data["parent"]:
            parent = get_object_or_404(
                Comment.objects.filter(challenge=challenge).visible_to(request.user), pk=form.cleaned_data["parent"]
            )
        comment = attempt(
            request,
            lambda: services.comment_post(
                challenge=challenge,
                author=request.user,
                text=form.cleaned_data["text"],
                proposal=proposal,
                parent=parent,
            ),
            form=form,
        )
        if comment is not REFUSED:
            messages.success(request, _("Your comment is posted."))
            base = proposal.get_absolute_url() if proposal else challenge.get_absolute_url()
            return redirect(f"{base}#comment-{comment.pk}")
    if proposal is not None:
        return proposal_page(request, selectors.proposal_visible(user=request.user, pk=proposal.pk), comment_form=form)
    return challenge_page(request, challenge, comment_form=form)


def results_url(challenge: Challenge) -> str:
    return reverse("codesign:results", args=[challenge.pk])
