"""Proposals: the gallery, writing one (draft or submitted), its page (description,
pictures, earlier versions, the organizers' answer, comments), its steps (submit,
withdraw, with a confirmation page), the organizers' answer, and adding pictures."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from p2pcommons.i18n import activate_community_zone
from p2pcommons.viewkit import REFUSED, attempt, paginate

from .. import selectors, services
from ..forms import AnswerForm, CoauthorForm, CommentForm, PhotoForm, ProposalForm
from ..markdown import render as markdown
from ..models import Challenge, Proposal, ProposalPhoto
from ..services.photos import proposal_photo_add as photo_add
from ..transitions import PROPOSAL
from .common import PER_PAGE, challenge_or_404, organizes, proposal_or_404, proposal_state

P = Proposal.Status
AUTHOR_STEPS = ("submit", "withdraw")  # the answer (accept / not feasible) has its own form


def _is_author(proposal: Proposal, user) -> bool:
    return proposal.author_id == user.pk or proposal.coauthors.filter(pk=user.pk).exists()


@login_required
@require_GET
def proposal_gallery(request: HttpRequest, pk: int) -> HttpResponse:
    """The designs of a challenge I may see (my drafts too), each with its first picture."""
    challenge = challenge_or_404(request, pk)
    page = paginate(request, selectors.proposals_of(challenge=challenge, user=request.user), PER_PAGE)
    organizer = organizes(request, challenge)
    cards = [
        {
            "proposal": p,
            "photo": next(iter(p.photos.all()), None),
            "state": proposal_state(p, organizer or p.answer_published_at is not None),
        }
        for p in page.object_list
    ]
    context = {
        "challenge": challenge,
        "page": page,
        "cards": cards,
        "can_propose": challenge.phase == Challenge.Phase.PROPOSALS
        and selectors.can_vote(user=request.user, challenge=challenge),
    }
    return render(request, "codesign/proposal_gallery.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def proposal_create(request: HttpRequest, pk: int) -> HttpResponse:
    challenge = challenge_or_404(request, pk)
    form = ProposalForm(request.POST or None, challenge=challenge)
    submit = request.POST.get("submit") == "1"
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def create() -> Proposal:
            with transaction.atomic():
                return services.proposal_create(
                    challenge=challenge, author=request.user, title=data["title"], description=data["description"],
                    cost=data["cost"], hours=data["hours"], tools_text=data["tools_text"],
                    tools=list(data["tools"]), skills=list(data["skills"]), submit=submit,
                )  # fmt: skip

        proposal = attempt(request, create, form=form)
        if proposal is not REFUSED:
            if submit:
                messages.success(request, _("Your design is submitted. The organizers will look at it and answer."))
            else:
                messages.success(request, _("Your draft is saved: only you see it. Submit it when it is ready."))
            return redirect(proposal)
    return render(request, "codesign/proposal_form.html", {"challenge": challenge, "form": form, "proposal": None})


@login_required
@require_http_methods(["GET", "POST"])
def proposal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = proposal_or_404(request, pk)
    if not _is_author(proposal, request.user):
        raise Http404("Only its authors edit a proposal.")
    challenge = proposal.challenge
    initial = {
        "title": proposal.title, "description": proposal.description, "cost": proposal.cost, "hours": proposal.hours,
        "tools_text": proposal.tools_text, "tools": list(proposal.tools.all()), "skills": list(proposal.skills.all()),
    }  # fmt: skip
    form = ProposalForm(request.POST or None, initial=initial, challenge=challenge)
    submit = request.POST.get("submit") == "1"
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def edit() -> Proposal:
            with transaction.atomic():
                saved = services.proposal_edit(
                    proposal=proposal, actor=request.user, title=data["title"], description=data["description"],
                    cost=data["cost"], hours=data["hours"], tools_text=data["tools_text"],
                    tools=list(data["tools"]), skills=list(data["skills"]),
                )  # fmt: skip
                if submit and saved.status == P.DRAFT:
                    saved = services.proposal_submit(proposal=saved, actor=request.user)
                return saved

        saved = attempt(request, edit, form=form)
        if saved is not REFUSED:
            messages.success(request, _("Your design is submitted.") if submit else _("Your changes are saved."))
            return redirect(saved)
    context = {"challenge": challenge, "form": form, "proposal": proposal}
    return render(request, "codesign/proposal_form.html", context)


def proposal_page(
    request: HttpRequest,
    proposal: Proposal,
    *,
    comment_form: CommentForm | None = None,
    answer_form: AnswerForm | None = None,
    coauthor_form: CoauthorForm | None = None,
) -> HttpResponse:
    user = request.user
    challenge = proposal.challenge
    activate_community_zone(challenge.community)
    organizer = organizes(request, challenge)
    answer_shown = selectors.answer_visible(proposal=proposal, user=user)
    answerable = organizer and (
        PROPOSAL.refusal("accept", proposal, user) is None or PROPOSAL.refusal("decline", proposal, user) is None
    )
    is_author = _is_author(proposal, user)
    context = {
        "challenge": challenge,
        "proposal": proposal,
        "description": markdown(proposal.description),
        "photos": list(proposal.photos.all()),
        "versions": [(v, markdown(v.description)) for v in proposal.versions.all()],
        "coauthors": list(proposal.coauthors.select_related("profile")),
        "tools": list(proposal.tools.all()),
        "skills": list(proposal.skills.all()),
        "state": proposal_state(proposal, answer_shown),
        "answer_shown": answer_shown,
        "buttons": PROPOSAL.buttons(proposal, user, names=AUTHOR_STEPS),
        "is_author": is_author,
        "editable": is_author
        and proposal.status in (P.DRAFT, P.SUBMITTED)
        and challenge.phase == Challenge.Phase.PROPOSALS,
        "answerable": answerable,
        "publishable": organizer
        and proposal.status in (P.ACCEPTED, P.NOT_FEASIBLE)
        and proposal.answer_published_at is None,
        "answer_form": answer_form or AnswerForm(),
        "comments": selectors.comments_of(challenge=challenge, user=user, proposal=proposal)
        if proposal.status != P.DRAFT
        else [],
        "comment_form": comment_form or CommentForm(initial={"proposal": proposal.pk}),
        "can_comment": proposal.status != P.DRAFT and selectors.can_vote(user=user, challenge=challenge),
        "coauthor_form": coauthor_form
        or (
            CoauthorForm(proposal=proposal)
            if user.pk == proposal.author_id and proposal.status in (P.DRAFT, P.SUBMITTED, P.ACCEPTED)
            else None
        ),
    }
    return render(request, "codesign/proposal_detail.html", context)


@login_required
@require_GET
def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return proposal_page(request, proposal_or_404(request, pk))


@login_required
@require_http_methods(["GET", "POST"])
def proposal_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """GET asks to confirm submitting or withdrawing; POST does it (its authors)."""
    proposal = proposal_or_404(request, pk)
    if step not in AUTHOR_STEPS:
        raise Http404("No such step.")
    action = PROPOSAL.by_name[step]
    if request.method == "POST":
        service = services.proposal_submit if step == "submit" else services.proposal_withdraw
        done = attempt(request, lambda: service(proposal=proposal, actor=request.user))
        if done is not REFUSED:
            words = {
                "submit": _("“%(title)s” is submitted: the organizers will answer."),
                "withdraw": _("“%(title)s” is withdrawn."),
            }
            messages.success(request, words[step] % {"title": done.title})
        return redirect(proposal)
    refusal = PROPOSAL.refusal(step, proposal, request.user)
    if refusal is not None:
        messages.error(request, str(refusal))
        return redirect(proposal)
    return render(request, "codesign/proposal_step.html", {"proposal": proposal, "action": action})


@login_required
@require_POST
def proposal_answer(request: HttpRequest, pk: int) -> HttpResponse:
    """The organizers' answer (accept for voting, or not feasible with a reason), or
    publishing an answer given earlier (``publish_only``)."""
    proposal = proposal_or_404(request, pk)
    if not organizes(request, proposal.challenge):
        raise Http404("Only organizers answer proposals.")
    if request.POST.get("publish_only"):
        done = attempt(request, lambda: services.proposal_publish_answer(proposal=proposal, actor=request.user))
        if done is not REFUSED:
            messages.success(request, _("The answer is published: the authors are told."))
        return redirect(proposal)
    form = AnswerForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        done = attempt(
            request,
            lambda: services.proposal_answer(
                proposal=proposal,
                actor=request.user,
                accept=data["decision"] == "accept",
                reason=data["reason"],
                publish=data["publish"],
            ),
            form=form,
        )
        if done is not REFUSED:
            if done.status == P.ACCEPTED:
                text = (
                    _("“%(title)s” is accepted for voting. The authors are told.")
                    if done.answer_published_at
                    else _("“%(title)s” is accepted for voting. Publish the answer when you are ready.")
                )
            else:
                text = (
                    _("“%(title)s” is marked not feasible. The authors are told.")
                    if done.answer_published_at
                    else _("“%(title)s” is marked not feasible. Publish the answer when you are ready.")
                )
            messages.success(request, text % {"title": done.title})
            return redirect(proposal)
    return proposal_page(request, proposal, answer_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def proposal_photo_add(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = proposal_or_404(request, pk)
    if not _is_author(proposal, request.user):
        raise Http404("Only its authors add pictures to a proposal.")
    form = PhotoForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        added = attempt(
            request,
            lambda: photo_add(proposal=proposal, actor=request.user, upload=data["image"], alt_text=data["alt_text"]),
            form=form,
        )
        if added is not REFUSED:
            messages.success(request, _("The picture is added."))
            return redirect("codesign:proposal-photo-add", proposal.pk)
    photos = list(proposal.photos.all())
    context = {
        "proposal": proposal, "challenge": proposal.challenge, "photos": photos, "form": form,
        "room": ProposalPhoto.MAX_PER_PROPOSAL - len(photos),
    }  # fmt: skip
    return render(request, "codesign/proposal_photos.html", context)


@login_required
@require_POST
def proposal_coauthor_add(request: HttpRequest, pk: int) -> HttpResponse:
    """The author names a neighbor as co-author: they may edit the proposal with them."""
    proposal = proposal_or_404(request, pk)
    if request.user.pk != proposal.author_id:
        raise Http404("Only the proposal's author names co-authors.")
    form = CoauthorForm(request.POST, proposal=proposal)
    if form.is_valid():
        coauthor = form.cleaned_data["coauthor"]
        done = attempt(
            request,
            lambda: services.proposal_add_coauthor(proposal=proposal, actor=request.user, coauthor=coauthor),
            form=form,
        )
        if done is not REFUSED:
            messages.success(
                request, _("%(name)s is now a co-author and may edit it with you.") % {"name": coauthor.public_name}
            )
            return redirect(proposal)
    return proposal_page(request, proposal, coauthor_form=form)
