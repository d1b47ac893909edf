"""Ideas, proposals and comments: what neighbors write during a challenge."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.notifications.services import notify_each
from apps.peers.guards import require_active_member, require_exchange_in_use, require_organizer
from apps.peers.models import User
from p2pcommons.errors import RuleViolation
from p2pcommons.i18n import Message

from ..models import Challenge, Comment, Follow, Idea, PlusOne, Proposal, ProposalVersion
from ..transitions import PROPOSAL

PH = Challenge.Phase
P = Proposal.Status
MAX_IDEAS_PER_MEMBER = 10


def _phase(challenge: Challenge, phase: str, doing: str) -> None:
    if challenge.phase != phase:
        sentences = {
            "post ideas": _("You can post ideas only while the challenge is in its %(phase)s phase; it is in %(now)s."),
            "+1 ideas": _("You can +1 ideas only while the challenge is in its %(phase)s phase; it is in %(now)s."),
            "propose designs": _(
                "You can propose designs only while the challenge is in its %(phase)s phase; it is in %(now)s."
            ),
            "edit proposals": _(
                "You can edit proposals only while the challenge is in its %(phase)s phase; it is in %(now)s."
            ),
        }
        raise RuleViolation(
            sentences[doing]
            % {"phase": Challenge.Phase(phase).label.lower(), "now": challenge.get_phase_display().lower()},
            code="wrong_phase",
        )


# --- ideas ------------------------------------------------------------------------------
def idea_post(*, challenge: Challenge, author: User, text: str) -> Idea:
    """A short idea during the ideas phase (at most 10 per member and challenge); none
    (``exchange_off``) where the community stopped using the exchange."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write your idea in a sentence or two.")})
    if len(text) > 300:
        raise ValidationError({"text": _("Keep an idea to 300 characters; a design comes later, as a proposal.")})
    require_active_member(user=author, community_id=challenge.community_id, doing="post an idea")
    require_exchange_in_use(community_id=challenge.community_id, key="codesign", doing="post ideas")
    with transaction.atomic():
        challenge = Challenge.objects.select_for_update().get(pk=challenge.pk)
        _phase(challenge, PH.IDEAS, "post ideas")
        if Idea.objects.filter(challenge=challenge, author=author).count() >= MAX_IDEAS_PER_MEMBER:
            raise RuleViolation(
                _("You posted %(most)s ideas here already.") % {"most": MAX_IDEAS_PER_MEMBER}, code="limit"
            )
        return Idea.objects.create(challenge=challenge, author=author, text=text)


def idea_plus_one(*, idea: Idea, member: User) -> Idea:
    """+1 an idea, once per member, during the ideas phase (not one's own)."""
    require_active_member(user=member, community_id=idea.challenge.community_id, doing="support an idea")
    _phase(idea.challenge, PH.IDEAS, "+1 ideas")
    if idea.author_id == member.pk:
        raise RuleViolation(_("That is your own idea."), code="own_idea")
    try:
        with transaction.atomic():
            PlusOne.objects.create(idea=idea, member=member)
            Idea.objects.filter(pk=idea.pk).update(plus_ones=F("plus_ones") + 1)
    except IntegrityError:
        pass  # already +1'd: nothing more
    idea.refresh_from_db()
    return idea


# --- proposals --------------------------------------------------------------------------
def _clean_proposal(title: str, description: str, cost, hours) -> tuple[str, str, Decimal, Decimal]:
    errors = {}
    title, description = (title or "").strip(), (description or "").strip()
    if not title:
        errors["title"] = _("Give your design a title.")
    elif len(title) > 120:
        errors["title"] = _("At most 120 characters.")
    if not description:
        errors["description"] = _("Describe your design.")
    elif len(description) > 10_000:
        errors["description"] = _("At most 10,000 characters.")
    values = {}
    for name, value, places, most in (("cost", cost, "0.01", 1_000_000), ("hours", hours, "0.25", 999)):
        try:
            number = value if isinstance(value, Decimal) else Decimal(str(value if value is not None else 0))
        except (InvalidOperation, ValueError):
            errors[name] = _("Give a number.")
            continue
        if not number.is_finite() or not 0 <= number <= most:
            errors[name] = _("From 0 to %(most)s.") % {"most": f"{most:,}"}
        elif number % Decimal(places):
            errors[name] = _("Credits to the cent.") if name == "cost" else _("Hours in quarters (0.25, 0.5, ...).")
        values[name] = number
    if errors:
        raise ValidationError(errors)
    return title, description, values["cost"], values["hours"]


def _check_needs(challenge: Challenge, tools, skills) -> None:
    """Tools from the challenge's community catalog; skills offered there (site-wide
    ones, or the community's own) and still in use."""
    errors = {}
    if tools is not None and any(tool.community_id != challenge.community_id for tool in tools):
        errors["tools"] = _("Choose tools of this community's catalog.")
    if skills is not None and any(
        not skill.is_active or skill.community_id not in (None, challenge.community_id) for skill in skills
    ):
        errors["skills"] = _("Choose skills offered in this community.")
    if errors:
        raise ValidationError(errors)


def _set_needs(proposal: Proposal, tools, skills) -> None:
    if tools is not None:
        proposal.tools.set(tools)
    if skills is not None:
        proposal.skills.set(skills)


def proposal_create(
    *,
    challenge: Challenge,
    author: User,
    title: str,
    description: str,
    cost=Decimal("0"),
    hours=Decimal("0"),
    tools_text: str = "",
    tools=None,
    skills=None,
    submit: bool = False,
) -> Proposal:
    """A design for the challenge, saved as a draft (only its authors see it) or
    submitted at once. Written during the proposals phase. ``tools`` (of the
    community's catalog) and ``skills`` are what building it needs. None
    (``exchange_off``) where the community stopped using the exchange; proposals already
    made there can still be edited, submitted and voted on."""
    title, description, cost, hours = _clean_proposal(title, description, cost, hours)
    _check_needs(challenge, tools, skills)
    require_active_member(user=author, community_id=challenge.community_id, doing="propose a design")
    require_exchange_in_use(community_id=challenge.community_id, key="codesign", doing="propose designs")
    with transaction.atomic():
        challenge = Challenge.objects.select_for_update().get(pk=challenge.pk)  # the phase as it is now
        _phase(challenge, PH.PROPOSALS, "propose designs")
        proposal = Proposal.objects.create(
            challenge=challenge, author=author, title=title, description=description, cost=cost, hours=hours,
            tools_text=(tools_text or "").strip()[:300],
        )  # fmt: skip
        _set_needs(proposal, tools, skills)
        if submit:
            proposal = proposal_submit(proposal=proposal, actor=author)
        return proposal


def proposal_edit(
    *,
    proposal: Proposal,
    actor: User,
    title: str,
    description: str,
    cost=None,
    hours=None,
    tools_text: str | None = None,
    tools=None,
    skills=None,
    now=None,
) -> Proposal:
    """Its author or a co-author edits a draft or submitted proposal during the
    proposals phase. Once others have commented, the text before the edit is kept as a
    version, so replies keep what they replied to."""
    now = now or timezone.now()
    cost = proposal.cost if cost is None else cost
    hours = proposal.hours if hours is None else hours
    title, description, cost, hours = _clean_proposal(title, description, cost, hours)
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update().select_related("challenge").get(pk=proposal.pk)
        if actor.pk != proposal.author_id and not proposal.coauthors.filter(pk=actor.pk).exists():
            raise RuleViolation(_("Only its authors can edit a proposal."), code="forbidden")
        if proposal.status not in (P.DRAFT, P.SUBMITTED):
            raise RuleViolation(_("This proposal can no longer be edited."), code="illegal_transition")
        _phase(proposal.challenge, PH.PROPOSALS, "edit proposals")
        _check_needs(proposal.challenge, tools, skills)
        if Comment.objects.filter(proposal=proposal).exclude(author=actor).exists() and (
            proposal.title != title or proposal.description != description
        ):
            ProposalVersion.objects.create(proposal=proposal, title=proposal.title, description=proposal.description)
        if tools_text is None:
            tools_text = proposal.tools_text
        Proposal.objects.filter(pk=proposal.pk).update(
            title=title, description=description, cost=cost, hours=hours, tools_text=tools_text.strip()[:300],
            updated_at=now,
        )  # fmt: skip
        _set_needs(proposal, tools, skills)
        proposal.refresh_from_db()
        return proposal


def proposal_add_coauthor(*, proposal: Proposal, actor: User, coauthor: User) -> Proposal:
    """The author names a neighbor of the community as co-author (they may edit it)."""
    if actor.pk != proposal.author_id:
        raise RuleViolation(_("Only the proposal's author names co-authors."), code="forbidden")
    require_active_member(user=coauthor, community_id=proposal.challenge.community_id, doing="co-author a proposal")
    if coauthor.pk == proposal.author_id:
        raise ValidationError({"coauthor": _("You are its author already.")})
    proposal.coauthors.add(coauthor)
    return proposal


def proposal_submit(*, proposal: Proposal, actor: User, now: datetime | None = None) -> Proposal:
    """Submit a draft to the organizers (during the proposals phase)."""
    now = now or timezone.now()
    with transaction.atomic():
        proposal = Proposal.objects.select_related("challenge").get(pk=proposal.pk)
        proposal = PROPOSAL.apply("submit", proposal, actor, now=now, submitted_at=now)
        organizers = _organizers(proposal.challenge)
        notify_each(
            messages=[
                (
                    u,
                    Message(
                        "New proposal for {challenge}: {title}",
                        challenge=proposal.challenge.title,
                        title=proposal.title,
                    ),
                )
                for u in organizers
            ],
            kind="codesign.proposal",
            target=proposal,
            actor=actor,
        )
        return proposal


def proposal_withdraw(*, proposal: Proposal, actor: User) -> Proposal:
    with transaction.atomic():
        proposal = Proposal.objects.select_related("challenge").get(pk=proposal.pk)
        return PROPOSAL.apply("withdraw", proposal, actor)


def proposal_answer(
    *, proposal: Proposal, actor: User, accept: bool, reason: str = "", publish: bool = False
) -> Proposal:
    """An organizer's answer: accepted for voting, or not feasible with a reason. The
    authors see it (and are told) once it is published."""
    reason = (reason or "").strip()
    if not accept and not reason:
        raise ValidationError({"reason": _("Say why it is not feasible; the authors read it.")})
    with transaction.atomic():
        proposal = Proposal.objects.select_related("challenge").get(pk=proposal.pk)
        proposal = PROPOSAL.apply("accept" if accept else "decline", proposal, actor, note=reason)
        Proposal.objects.filter(pk=proposal.pk).update(
            answer_reason=reason[:500], answered_by=actor, answer_published_at=None
        )  # a changed answer waits to be published again
        proposal.refresh_from_db()
        if publish:
            proposal = proposal_publish_answer(proposal=proposal, actor=actor)
        return proposal


def proposal_publish_answer(*, proposal: Proposal, actor: User, now: datetime | None = None) -> Proposal:
    """Show the organizers' answer to the authors and tell them (once)."""
    now = now or timezone.now()
    proposal = Proposal.objects.select_related("challenge").get(pk=proposal.pk)
    require_organizer(user=actor, community_id=proposal.challenge.community_id, doing="publish an answer")
    if proposal.status not in (P.ACCEPTED, P.NOT_FEASIBLE):
        raise RuleViolation(_("Answer the proposal first."), code="illegal_transition")
    with transaction.atomic():
        if Proposal.objects.filter(pk=proposal.pk, answer_published_at__isnull=True).update(answer_published_at=now):
            text = (
                Message("Your proposal “{title}” is accepted for voting.", title=proposal.title)
                if proposal.status == P.ACCEPTED
                else Message(
                    "Your proposal “{title}” is not feasible: {reason}",
                    title=proposal.title,
                    reason=proposal.answer_reason,
                )
            )
            notify_each(messages=[(u, text) for u in _authors(proposal)], kind="codesign.proposal",
                        target=proposal, actor=actor)  # fmt: skip
    proposal.refresh_from_db()
    return proposal


def _authors(proposal: Proposal) -> list[User]:
    return [proposal.author, *proposal.coauthors.all()]


def _organizers(challenge: Challenge) -> list[User]:
    from apps.peers.selectors import organizers_of

    return organizers_of(community_id=challenge.community_id)


# --- comments ---------------------------------------------------------------------------
def comment_post(
    *, challenge: Challenge, author: User, text: str, proposal: Proposal | None = None, parent: Comment | None = None
) -> Comment:
    """A comment on the challenge or one of its proposals; a reply answers a top-level
    comment (one level). The authors and the followers are told."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write something.")})
    if len(text) > 2000:
        raise ValidationError({"text": _("At most 2,000 characters.")})
    require_active_member(user=author, community_id=challenge.community_id, doing="comment")
    if proposal is not None and proposal.challenge_id != challenge.pk:
        raise ValidationError({"proposal": _("That proposal is not of this challenge.")})
    if proposal is not None and proposal.status == P.DRAFT:
        raise RuleViolation(_("Drafts take no comments."), code="illegal_transition")
    if parent is not None:
        if parent.challenge_id != challenge.pk or parent.proposal_id != (proposal.pk if proposal else None):
            raise ValidationError({"parent": _("Reply to a comment of the same page.")})
        if parent.parent_id is not None:
            parent = parent.parent  # one level: a reply to a reply answers the thread
    with transaction.atomic():
        comment = Comment.objects.create(
            challenge=challenge, proposal=proposal, parent=parent, author=author, text=text
        )
        told = {author.pk}
        messages = []
        # One sentence for everyone told (one insert).
        if proposal:
            said = Message(
                "{name} commented on “{title}”: {text}", name=author.public_name, title=proposal.title, text=text[:120]
            )
        else:
            said = Message(
                "{name} commented on {title}: {text}", name=author.public_name, title=challenge.title, text=text[:120]
            )
        people = list(_authors(proposal)) if proposal else []
        if parent is not None:
            people.append(parent.author)
        people += list(User.objects.filter(pk__in=Follow.objects.filter(challenge=challenge).values("member_id")))
        for user in people:
            if user.pk not in told:
                told.add(user.pk)
                messages.append((user, said))
        notify_each(messages=messages, kind="codesign.comment", target=comment, actor=author)
        return comment
