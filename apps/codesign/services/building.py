"""The build: tasks neighbors join, hours paid from the community's co-design fund once an
organizer confirms them, and the budget spent through the ledger."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.ledger.models import Currency, Transfer
from apps.ledger.services import account_for, community_account, transfer_create
from apps.notifications.services import notify
from apps.peers.guards import require_active_member, require_exchange_in_use, require_organizer
from apps.peers.models import User
from apps.reputation.services import trust_recompute_on_commit
from p2pcommons.errors import RuleViolation
from p2pcommons.humanize import format_amount
from p2pcommons.i18n import Amount, Message

from ..models import FUND_NAME, Challenge, Project, Task, Volunteer
from ..transitions import VOLUNTEER

PH = Challenge.Phase


def _building(challenge: Challenge) -> None:
    if challenge.phase != PH.BUILDING:
        raise RuleViolation(_("The challenge is not being built."), code="wrong_phase")


def task_create(
    *, project: Project, actor: User, title: str, hours, when: date | None = None, places: int = 2,
    skill=None, tool=None,
) -> Task:  # fmt: skip
    """An organizer adds a task to a project being built."""
    challenge = project.challenge
    require_organizer(user=actor, community_id=challenge.community_id, doing="add tasks")
    errors = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = _("Say what needs doing.")
    try:
        hours = hours if isinstance(hours, Decimal) else Decimal(str(hours))
    except (InvalidOperation, ValueError):
        hours = None
    if (
        hours is None
        or not hours.is_finite()
        or not Decimal("0.25") <= hours <= Decimal("12")
        or hours % Decimal("0.25")
    ):
        errors["hours"] = _("From 0.25 to 12 hours, in quarters.")
    if isinstance(places, bool) or not isinstance(places, int) or not 1 <= places <= 50:
        errors["places"] = _("From 1 to 50 people.")
    if tool is not None and tool.community_id != challenge.community_id:
        errors["tool"] = _("Choose a tool of this community's catalog.")
    if errors:
        raise ValidationError(errors)
    _building(challenge)
    return Task.objects.create(
        project=project, title=title[:120], hours=hours, date=when, places=places, skill=skill, tool=tool
    )


def task_join(*, task: Task, member: User) -> Volunteer:
    """A member joins a task while there is room (the task row is locked, so the last
    place is taken once). No new volunteers (``exchange_off``) where the community
    stopped using the exchange; those already on a task are still confirmed and paid."""
    challenge = task.project.challenge
    require_active_member(user=member, community_id=challenge.community_id, doing="join the build")
    require_exchange_in_use(community_id=challenge.community_id, key="codesign", doing="join new tasks")
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=task.pk)
        _building(challenge)
        if task.status != Task.Status.OPEN:
            raise RuleViolation(_("This task is closed."), code="illegal_transition")
        mine = Volunteer.objects.filter(task=task, member=member).first()
        if mine is not None and mine.status != Volunteer.Status.LEFT:
            raise RuleViolation(_("You are on this task already."), code="already_joined")
        taken = Volunteer.objects.filter(task=task, status__in=(Volunteer.Status.JOINED, Volunteer.Status.CONFIRMED))
        if taken.count() >= task.places:
            raise RuleViolation(_("This task has all the people it needs."), code="full")
        if mine is not None:
            Volunteer.objects.filter(pk=mine.pk).update(status=Volunteer.Status.JOINED)
            mine.refresh_from_db()
            return mine
        try:
            return Volunteer.objects.create(task=task, member=member)
        except IntegrityError:  # pragma: no cover - the task lock serializes joins
            raise RuleViolation(_("You are on this task already."), code="already_joined") from None


def volunteer_leave(*, volunteer: Volunteer, actor: User) -> Volunteer:
    with transaction.atomic():
        volunteer = Volunteer.objects.select_related("task__project__challenge").get(pk=volunteer.pk)
        return VOLUNTEER.apply("leave", volunteer, actor)


def fund(*, challenge: Challenge, currency: str):
    """The community's co-design fund account in that currency (opened on first use)."""
    return community_account(community=challenge.community, currency=currency, name=FUND_NAME)


def volunteer_confirm(*, volunteer: Volunteer, actor: User, now: datetime | None = None) -> Volunteer:
    """An organizer confirms a volunteer did the task: the task's hours move from the
    co-design fund's HOUR account to the volunteer's, once (the conditional update from
    ``joined``, and the idempotency key ``codesign-volunteer-<id>``); it is a completed
    exchange between the two for reputation. If the fund is at its limit the ledger
    refuses, and nothing changes."""
    now = now or timezone.now()
    with transaction.atomic():
        volunteer = Volunteer.objects.select_related("task__project__challenge__community", "member").get(
            pk=volunteer.pk
        )
        volunteer = VOLUNTEER.apply("confirm", volunteer, actor, now=now, confirmed_by=actor, confirmed_at=now)
        task = volunteer.task
        challenge = task.project.challenge
        transfer = transfer_create(
            source=fund(challenge=challenge, currency=Currency.HOUR),
            target=account_for(user=volunteer.member, community=challenge.community, currency=Currency.HOUR),
            amount=task.hours,
            memo=f"{challenge.title}: {task.title}"[:200],
            idempotency_key=f"codesign-volunteer-{volunteer.pk}",
            kind=Transfer.Kind.EXCHANGE,
            related=volunteer,
            created_by=actor,
        )
        Volunteer.objects.filter(pk=volunteer.pk).update(transfer=transfer)
        volunteer.refresh_from_db()
        notify(
            recipients=[volunteer.member],
            kind="codesign.task",
            text=Message(
                "Thank you for “{task}”: {hours} from the co-design fund.",
                task=task.title,
                hours=Amount(task.hours, Currency.HOUR),
            ),
            target=challenge,
            actor=actor,
        )
        trust_recompute_on_commit(user_ids={volunteer.member_id, actor.pk})
        return volunteer


def budget_spend(
    *, challenge: Challenge, actor: User, amount, recipient: User, memo: str, idempotency_key: str
) -> Transfer:
    """An organizer pays from the challenge's budget (materials a neighbor bought):
    CREDIT from the co-design fund to ``recipient``. Never beyond the budget: the
    challenge row is locked and ``spent`` checked (a database check refuses it too)."""
    require_organizer(user=actor, community_id=challenge.community_id, doing="spend the budget")
    try:
        amount = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise ValidationError({"amount": _("Give an amount in credits.")}) from None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"amount": _("A positive amount, to the cent.")})
    require_active_member(user=recipient, community_id=challenge.community_id, doing="be paid from the budget")
    with transaction.atomic():
        challenge = Challenge.objects.select_for_update().get(pk=challenge.pk)
        if challenge.budget is None:
            raise RuleViolation(_("This challenge has no budget."), code="no_budget")
        if challenge.phase not in (PH.BUILDING, PH.DONE):
            raise RuleViolation(_("The budget is spent on the winning design, once voting closed."), code="wrong_phase")
        left = challenge.budget - challenge.spent
        retry = Transfer.objects.filter(idempotency_key=idempotency_key).exists()  # answered below, unchanged
        if amount > left and not retry:
            raise RuleViolation(
                _("Only %(left)s of the budget is left.") % {"left": format_amount(left, Currency.CREDIT)},
                code="over_budget",
                data={"left": str(left)},
            )
        transfer = transfer_create(
            source=fund(challenge=challenge, currency=Currency.CREDIT),
            target=account_for(user=recipient, community=challenge.community, currency=Currency.CREDIT),
            amount=amount,
            memo=(memo or challenge.title)[:200],
            idempotency_key=idempotency_key,
            kind=Transfer.Kind.EXCHANGE,
            related=challenge,
            created_by=actor,
        )
        if transfer.was_created:
            Challenge.objects.filter(pk=challenge.pk).update(spent=challenge.spent + amount)
        return transfer
