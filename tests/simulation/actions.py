"""What neighbors, organizers, workers and the clock do in the simulation: each action
picks its people and rows with the walk's random source (rows from queries ordered by
id) and returns the one service or task call it makes, or None when there is nothing to
do it on yet."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db.models import F, Q
from django.utils import timezone

from apps.codesign import services as codesign
from apps.codesign import tasks as codesign_tasks
from apps.codesign.models import Challenge, Project, Proposal, Task, Volunteer
from apps.ledger import services as ledger
from apps.ledger import tasks as ledger_tasks
from apps.skills import services as skills
from apps.skills import tasks as skills_tasks
from apps.skills.models import Request, Seat, Session
from apps.solar import services as solar
from apps.solar import tasks as solar_tasks
from apps.solar.models import GATE_CLOSURE, SLOT, MeterReading, Order, Slot
from apps.solar.services import Row
from apps.tools import services as tools
from apps.tools import tasks as tools_tasks
from apps.tools.models import Reservation, WaitlistEntry

from .model import Call, Engine, Outcome, Pending
from .world import Neighborhood

S = Reservation.Status


def _quarter_after(moment):
    """The first quarter hour at or after ``moment``."""
    base = moment.replace(second=0, microsecond=0)
    return base + timedelta(minutes=(-base.minute) % 15)


class Actions:
    """The actions of one walk over one neighborhood."""

    def __init__(self, engine: Engine, world: Neighborhood) -> None:
        self.engine = engine
        self.rng = engine.rng
        self.world = world

    # --- helpers -------------------------------------------------------------------------
    def _pick(self, rows):
        rows = list(rows)
        return self.rng.choice(rows) if rows else None

    def _community(self):
        return self.rng.choice(self.world.communities)

    def _member(self, community, *, besides=None):
        people = [u for u in self.world.members[community.pk] if besides is None or u.pk != besides.pk]
        return self.rng.choice(people)

    # --- the clock -----------------------------------------------------------------------
    def time_passes(self) -> None:
        """The clock jumps (it never ticks by itself: every step happens at one instant)."""
        minutes = self.rng.choice([10, 15, 30, 60, 60, 120, 180, 240])
        self.engine.traveller.shift(timedelta(minutes=minutes))
        self.engine.last = None  # a retry comes at once, never after the clock moved
        self.engine.stats.ops["time"] += 1
        # At least 10 minutes: the ledger's 5-minute sweep has signed every log that grew
        # (no draw of its own, so the walks of the fixed seeds stay what they were).
        signed = ledger_tasks.publish_due_checkpoints()
        self.engine.record("time", f"{minutes} minutes pass, {signed} checkpoints signed", Outcome("ok"))

    # --- tools ---------------------------------------------------------------------------
    def book(self) -> Call:
        tool = self.rng.choice(self.world.tools)
        borrower = self._member(tool.community, besides=tool.owner)
        starts = _quarter_after(timezone.now()) + timedelta(hours=self.rng.randint(1, 24))
        ends = starts + timedelta(hours=self.rng.choice([2, 6, 24, 48, 80]))
        return Call(
            "book",
            f"{borrower.email} asks for {tool.title} {starts:%d %H:%M}-{ends:%d %H:%M}",
            lambda: tools.reservation_request(tool=tool, borrower=borrower, starts_at=starts, ends_at=ends),
        )

    def _loan(self, *statuses):
        return self._pick(
            Reservation.objects.filter(status__in=statuses, tool__community__slug__startswith="sim-")
            .select_related("tool__owner", "borrower")
            .order_by("pk")
        )

    def approve(self) -> Call | None:
        loan = self._loan(S.REQUESTED)
        if loan is None:
            return None
        return Call(
            "approve",
            f"owner approves loan {loan.pk}",
            lambda: tools.reservation_approve(reservation=loan, actor=loan.tool.owner),
        )

    def decline(self) -> Call | None:
        loan = self._loan(S.REQUESTED)
        if loan is None:
            return None
        return Call(
            "decline",
            f"owner declines loan {loan.pk}",
            lambda: tools.reservation_decline(reservation=loan, actor=loan.tool.owner, note="Sorry"),
        )

    def cancel_loan(self) -> Call | None:
        loan = self._loan(S.REQUESTED, S.APPROVED)
        if loan is None:
            return None
        actor = loan.borrower if loan.status == S.REQUESTED or self.rng.random() < 0.5 else loan.tool.owner
        return Call(
            "cancel_loan",
            f"{actor.email} cancels loan {loan.pk}",
            lambda: tools.reservation_cancel(reservation=loan, actor=actor),
        )

    def pickup(self) -> Call | None:
        now = timezone.now()
        ready = Reservation.objects.filter(
            status=S.APPROVED,
            starts_at__lte=now + tools.PICKUP_EARLY,
            starts_at__gte=now - tools.PICKUP_GRACE,
        )
        loan = self._loan(S.APPROVED) if self.rng.random() < 0.2 else None
        loan = loan or self._pick(ready.select_related("tool__owner", "borrower").order_by("pk"))
        if loan is None:
            return None
        actor = loan.borrower if loan.has_fee or self.rng.random() < 0.5 else loan.tool.owner
        return Call(
            "pickup",
            f"{actor.email} records the pickup of loan {loan.pk}",
            lambda: tools.reservation_pickup(reservation=loan, actor=actor),
        )

    def give_back(self) -> Call | None:
        loan = self._loan(S.PICKED_UP)
        if loan is None:
            return None
        return Call(
            "return",
            f"owner records the return of loan {loan.pk}",
            lambda: tools.reservation_return(reservation=loan, actor=loan.tool.owner),
        )

    def wait(self) -> Call | None:
        """A neighbor joins the waitlist for a window another loan holds now."""
        loan = self._pick(
            Reservation.objects.filter(status__in=(S.REQUESTED, S.APPROVED), starts_at__gt=timezone.now())
            .select_related("tool__owner", "tool__community", "borrower")
            .order_by("pk")
        )
        if loan is None:
            return None
        member = self.rng.choice(
            [
                u
                for u in self.world.members[loan.tool.community_id]
                if u.pk not in (loan.borrower_id, loan.tool.owner_id)
            ]
        )
        return Call(
            "wait",
            f"{member.email} waits for {loan.tool.title} {loan.starts_at:%d %H:%M}",
            lambda: tools.waitlist_join(tool=loan.tool, member=member, starts_at=loan.starts_at, ends_at=loan.ends_at),
        )

    def take_offer(self) -> Call | None:
        entry = self._pick(WaitlistEntry.objects.filter(status=WaitlistEntry.Status.OFFERED).select_related("member")
                           .order_by("pk"))  # fmt: skip
        if entry is None:
            return None
        return Call("take_offer", f"{entry.member.email} takes the window offered to them ({entry.pk})",
                    lambda: tools.waitlist_accept(entry=entry, actor=entry.member))  # fmt: skip

    def tools_beat(self) -> Call:
        task = self.rng.choice(
            [tools_tasks.send_loan_reminders, tools_tasks.expire_unpicked_loans, tools_tasks.lapse_waitlist_offers]
        )
        return Call("tools_beat", f"beat runs {task.name.rsplit('.', 1)[-1]}", lambda: task(), sweep=True)

    # --- the ledger ----------------------------------------------------------------------
    def gift(self) -> Call:
        community = self._community()
        sender = self._member(community)
        recipient = self._member(community, besides=sender)
        currency = self.rng.choice(["CREDIT", "HOUR"])
        amount = Decimal(self.rng.randint(1, 2000)) / 100
        key = f"sim-gift-{self.engine.step}"
        return Call(
            "gift",
            f"{sender.email} sends {amount} {currency} to {recipient.email}",
            lambda: ledger.gift_send(
                sender=sender, recipient=recipient, community=community, currency=currency, amount=amount,
                memo="Thanks", idempotency_key=key,
            ),
        )  # fmt: skip

    # --- solar ---------------------------------------------------------------------------
    def order(self) -> list[Call]:
        """A few neighbors of one street place buy and sell orders for the same quarter
        hour (markets are busy around the same slots): mostly into a book that already
        has orders, else for one of the next quarter hours. Each order is its own call."""
        now = timezone.now()
        books = Slot.objects.filter(status=Slot.Status.OPEN, start__gt=now + GATE_CLOSURE, orders__isnull=False)
        slot = self._pick(books.distinct().order_by("pk")) if self.rng.random() < 0.5 else None
        if slot is not None:
            start, community_id = slot.start, slot.community_id
        else:
            start = _quarter_after(now + GATE_CLOSURE) + timedelta(minutes=15 * self.rng.randint(0, 2))
            community_id = self._community().pk
        meters = [m for m in self.world.meters if m.community_id == community_id]
        return [self._one_order(meter, start) for meter in self.rng.sample(meters, self.rng.randint(2, 5))]

    def _one_order(self, meter, start) -> Call:
        side = {"producer": "sell", "consumer": "buy"}.get(meter.kind) or self.rng.choice(["buy", "sell"])
        if side == "sell":
            quantity = self.rng.randint(100, meter.slot_capacity_wh)
            price = Decimal(self.rng.randint(10, 30)) / 100
        else:
            quantity = self.rng.randint(100, 1500)
            price = Decimal(self.rng.randint(15, 40)) / 100
        return Call(
            "order",
            f"{meter.owner.email} {side}s {quantity} Wh at {price} for {start:%d %H:%M}",
            lambda: solar.order_place(
                member=meter.owner, meter=meter, slot_start=start, side=side, quantity_wh=quantity, limit_price=price
            ),
        )

    def _open_order(self):
        return self._pick(Order.objects.filter(status=Order.Status.OPEN).select_related("member").order_by("pk"))

    def order_change(self) -> Call | None:
        order = self._open_order()
        if order is None:
            return None
        quantity = max(1, order.quantity_wh + self.rng.choice([-200, -50, 50, 200]))
        return Call(
            "order_change",
            f"{order.member.email} changes order {order.pk} to {quantity} Wh",
            lambda: solar.order_change(order=order, actor=order.member, quantity_wh=quantity),
        )

    def order_cancel(self) -> Call | None:
        order = self._open_order()
        if order is None:
            return None
        return Call(
            "order_cancel",
            f"{order.member.email} cancels order {order.pk}",
            lambda: solar.order_cancel(order=order, actor=order.member),
        )

    def reading(self) -> Call | None:
        """A meter's reading for a quarter hour it traded in that is over: new, the same
        again, or a correction by its owner."""
        now = timezone.now()
        ended = Order.objects.filter(slot__start__lte=now - SLOT).select_related("meter__owner", "slot")
        if self.rng.random() < 0.7:  # mostly a meter that traded and has not sent its reading yet
            ended = ended.filter(status__in=(Order.Status.FILLED, Order.Status.PARTIAL)).exclude(
                meter__readings__interval_start=F("slot__start")
            )
        order = self._pick(ended.exclude(status=Order.Status.CANCELLED).order_by("-pk")[:50])
        if order is None:
            return None
        meter, start = order.meter, order.slot.start
        sells = order.side == Order.Side.SELL
        exported = self.rng.randint(0, meter.slot_capacity_wh) if sells else 0
        imported = 0 if sells else self.rng.randint(0, 2000)
        correct = self.rng.random() < 0.3
        row = Row(interval_start=start, imported_wh=imported, exported_wh=exported)
        return Call(
            "reading",
            f"{meter.owner.email} reads {imported} in / {exported} out for {start:%d %H:%M}"
            + (" (correcting)" if correct else ""),
            lambda: solar.readings_record(meter=meter, rows=[row], source=MeterReading.Source.FORM,
                                          actor=meter.owner, correct=correct),
        )  # fmt: skip

    def _slot(self):
        return self._pick(Slot.objects.filter(community__slug__startswith="sim-").order_by("pk"))

    def clear_slot(self) -> Call | None:
        slot = self._slot()
        if slot is None:
            return None
        return Call("clear_slot", f"task clear_slot(slot {slot.pk}, {slot.status})",
                    lambda: solar_tasks.clear_slot(slot.pk))  # fmt: skip

    def settle_slot(self) -> Call | None:
        """Settle any slot, also one not cleared yet: a settlement delivered before its clearing."""
        slot = self._slot()
        if slot is None:
            return None
        if slot.status == Slot.Status.OPEN:
            self.engine.stats.out_of_order += 1
        return Call("settle_slot", f"task settle_slot(slot {slot.pk}, {slot.status})",
                    lambda: solar_tasks.settle_slot(slot.pk))  # fmt: skip

    def solar_beat(self) -> Call:
        task = self.rng.choice([solar_tasks.clear_due_slots, solar_tasks.settle_due_slots])
        return Call("solar_beat", f"beat runs {task.name.rsplit('.', 1)[-1]}", lambda: task(), sweep=True)

    def slot_cancel(self) -> Call | None:
        slot = self._pick(
            Slot.objects.filter(status__in=(Slot.Status.OPEN, Slot.Status.CLEARED)).select_related("community")
            .order_by("pk")
        )  # fmt: skip
        if slot is None:
            return None
        organizer = self.world.organizers[slot.community_id]
        return Call(
            "slot_cancel",
            f"organizer cancels slot {slot.pk} ({slot.status})",
            lambda: solar.slot_cancel(slot=slot, actor=organizer, reason="The meters were wrong that day."),
        )

    # --- skills --------------------------------------------------------------------------
    def ask_for_help(self) -> Call:
        community = self._community()
        member = self._member(community)
        skill = self.rng.choice(self.world.skills)
        today = timezone.localdate()
        return Call(
            "ask_for_help",
            f"{member.email} asks for help with {skill.name}",
            lambda: skills.request_create(
                member=member, community=community, title=f"Help with {skill.name}", skills=[skill],
                wanted_from=today, wanted_until=today + timedelta(days=7),
            ),
        )  # fmt: skip

    def offer_help(self) -> Call:
        community = self._community()
        member = self._member(community)
        skill = self.rng.choice(self.world.skills)
        return Call(
            "offer_help",
            f"{member.email} offers help with {skill.name}",
            lambda: skills.offer_create(member=member, community=community, title=f"I do {skill.name}",
                                        skills=[skill], remote_ok=True),
        )  # fmt: skip

    def delete_request(self) -> Call | None:
        """The admin deletes a request, and a match task for it is already in flight."""
        request = self._pick(Request.objects.filter(sessions__isnull=True).order_by("pk")[:200])
        if request is None:
            return None
        pk = request.pk

        def delete():
            Request.objects.filter(pk=pk).delete()
            return True

        self.engine.queue.append(Pending(skills_tasks.match_request, (pk,), f"task match_request({pk}) (deleted)"))
        return Call("delete_request", f"admin deletes request {pk}", delete)

    def propose(self) -> Call:
        community = self._community()
        helper = self._member(community)
        learner = self._member(community, besides=helper)
        proposer = self.rng.choice([helper, learner])
        starts = _quarter_after(timezone.now()) + timedelta(hours=self.rng.randint(1, 12))
        hours = Decimal(self.rng.choice([50, 100, 150, 200, 300])) / 100
        return Call(
            "propose",
            f"{proposer.email} proposes {hours} h, {helper.email} helping {learner.email}",
            lambda: skills.session_propose(
                proposer=proposer, helper=helper, learner=learner, community=community, title="Lesson",
                starts_at=starts, planned_hours=hours, place="At the library",
            ),
        )  # fmt: skip

    def group_session(self) -> Call:
        community = self._community()
        helper = self._member(community)
        starts = _quarter_after(timezone.now()) + timedelta(hours=self.rng.randint(2, 30))
        capacity = self.rng.randint(2, 4)
        return Call(
            "group_session",
            f"{helper.email} opens a repair café for {capacity}",
            lambda: skills.group_session_create(
                helper=helper, community=community, title="Repair café", starts_at=starts,
                planned_hours=Decimal("2.00"), capacity=capacity, place="Community hall",
            ),
        )  # fmt: skip

    def _session(self, **filters):
        return self._pick(
            Session.objects.filter(community__slug__startswith="sim-", **filters)
            .select_related("helper", "proposed_by", "community")
            .order_by("pk")
        )

    def accept(self) -> Call | None:
        session = self._session(status=Session.Status.PROPOSED)
        if session is None:
            return None
        seat = session.seats.select_related("learner").first()
        other = seat.learner if session.proposed_by_id == session.helper_id else session.helper
        return Call("accept", f"{other.email} agrees to session {session.pk}",
                    lambda: skills.session_accept(session=session, actor=other))  # fmt: skip

    def cancel_session(self) -> Call | None:
        session = self._session(status__in=(Session.Status.PROPOSED, Session.Status.SCHEDULED))
        if session is None:
            return None
        return Call("cancel_session", f"{session.helper.email} cancels session {session.pk}",
                    lambda: skills.session_cancel(session=session, actor=session.helper, reason="Ill"))  # fmt: skip

    def join(self) -> Call | None:
        session = self._session(status=Session.Status.SCHEDULED, capacity__gt=1)
        if session is None:
            return None
        learner = self._member(session.community, besides=session.helper)
        return Call("join", f"{learner.email} joins session {session.pk}",
                    lambda: skills.seat_join(session=session, learner=learner))  # fmt: skip

    def leave(self) -> Call | None:
        seat = self._pick(
            Seat.objects.filter(status=Seat.Status.BOOKED, session__capacity__gt=1)
            .select_related("learner").order_by("pk")
        )  # fmt: skip
        if seat is None:
            return None
        return Call("leave", f"{seat.learner.email} leaves session {seat.session_id}",
                    lambda: skills.seat_leave(seat=seat, actor=seat.learner))  # fmt: skip

    def confirm(self) -> Call | None:
        """A party confirms the hours of a session that started: mostly the other side of
        a place one side has confirmed, with the same hours or a little off, now and then
        far off (a dispute)."""
        seats = Seat.objects.filter(
            status=Seat.Status.BOOKED, session__status=Session.Status.SCHEDULED, session__starts_at__lte=timezone.now()
        ).select_related("learner", "session__helper")
        half = seats.filter(
            Q(learner_hours__isnull=True, helper_hours__isnull=False)
            | Q(learner_hours__isnull=False, helper_hours__isnull=True)
        )
        seat = self._pick(half.order_by("pk")) if self.rng.random() < 0.7 else None
        seat = seat or self._pick(seats.order_by("pk"))
        if seat is None:
            return None
        session = seat.session
        base = seat.learner_hours or seat.helper_hours or session.planned_hours
        hours = self.rng.choice([base, base, base, base + Decimal("0.25"), base + Decimal("2")])
        if (seat.learner_hours is None) != (seat.helper_hours is None):
            by_learner = seat.learner_hours is None  # the side that has not confirmed yet
        else:
            by_learner = self.rng.random() < 0.5
        if by_learner:
            return Call("confirm", f"learner {seat.learner.email} confirms {hours} h of session {session.pk}",
                        lambda: skills.session_confirm(session=session, actor=seat.learner, hours=hours))  # fmt: skip
        return Call(
            "confirm",
            f"helper {session.helper.email} confirms {hours} h of {seat.learner.email} in session {session.pk}",
            lambda: skills.session_confirm(session=session, actor=session.helper, hours=hours, learner=seat.learner),
        )

    def dispute(self) -> Call | None:
        seat = self._pick(Seat.objects.filter(status=Seat.Status.COMPLETED).select_related("learner").order_by("pk"))
        if seat is None:
            return None
        return Call("dispute", f"{seat.learner.email} disputes place {seat.pk}",
                    lambda: skills.seat_dispute(seat=seat, actor=seat.learner, reason="It was shorter."))  # fmt: skip

    def settle_dispute(self) -> Call | None:
        seat = self._pick(Seat.objects.filter(status=Seat.Status.DISPUTED).select_related("session").order_by("pk"))
        if seat is None:
            return None
        organizer = self.world.organizers[seat.session.community_id]
        hours = Decimal(self.rng.choice([0, 50, 100, 150])) / 100
        return Call(
            "settle_dispute",
            f"organizer settles place {seat.pk} at {hours} h",
            lambda: skills.dispute_settle(seat=seat, actor=organizer, hours=hours, reason="Both agreed."),
        )

    # --- co-design -----------------------------------------------------------------------
    def vote(self) -> Call | None:
        challenge = self.rng.choice(self.world.challenges)
        proposal = self._pick(Proposal.objects.filter(challenge=challenge).order_by("pk"))
        voter = self._member(challenge.community)
        dots = self.rng.choice([0, 1, 2, 3, 4])
        return Call("vote", f"{voter.email} puts {dots} dots on proposal {proposal.pk}",
                    lambda: codesign.vote_set(proposal=proposal, voter=voter, dots=dots))  # fmt: skip

    def close_voting(self) -> Call:
        challenge = self.rng.choice(self.world.challenges)
        organizer = self.world.organizers[challenge.community_id]
        return Call(
            "close_voting",
            f"organizer closes voting of challenge {challenge.pk}",
            lambda: codesign.challenge_step(challenge=challenge, actor=organizer, step="close_voting"),
        )

    def codesign_beat(self) -> Call:
        return Call("codesign_beat", "beat runs advance_phases", lambda: codesign_tasks.advance_phases(), sweep=True)

    def task_create(self) -> Call | None:
        project = self._pick(
            Project.objects.filter(challenge__phase=Challenge.Phase.BUILDING).select_related("challenge")
            .order_by("pk")
        )  # fmt: skip
        if project is None:
            return None
        organizer = self.world.organizers[project.challenge.community_id]
        hours = Decimal(self.rng.choice([100, 150, 200, 300])) / 100
        places = self.rng.randint(1, 3)
        return Call(
            "task_create",
            f"organizer adds a task of {hours} h for {places} to project {project.pk}",
            lambda: codesign.task_create(project=project, actor=organizer, title="Sand", hours=hours, places=places),
        )

    def task_join(self) -> Call | None:
        task = self._pick(Task.objects.select_related("project__challenge").order_by("pk"))
        if task is None:
            return None
        member = self._member(task.project.challenge.community)
        return Call("task_join", f"{member.email} joins task {task.pk}",
                    lambda: codesign.task_join(task=task, member=member))  # fmt: skip

    def task_leave(self) -> Call | None:
        volunteer = self._pick(
            Volunteer.objects.filter(status=Volunteer.Status.JOINED).select_related("member").order_by("pk")
        )
        if volunteer is None:
            return None
        return Call("task_leave", f"{volunteer.member.email} leaves task {volunteer.task_id}",
                    lambda: codesign.volunteer_leave(volunteer=volunteer, actor=volunteer.member))  # fmt: skip

    def task_confirm(self) -> Call | None:
        volunteer = self._pick(
            Volunteer.objects.filter(status=Volunteer.Status.JOINED)
            .select_related("member", "task__project__challenge").order_by("pk")
        )  # fmt: skip
        if volunteer is None:
            return None
        organizer = self.world.organizers[volunteer.task.project.challenge.community_id]
        return Call("task_confirm", f"organizer confirms volunteer {volunteer.pk}",
                    lambda: codesign.volunteer_confirm(volunteer=volunteer, actor=organizer))  # fmt: skip


# How often each action is drawn (relative weights). "deliver", "retry" and "duplicate"
# are the engine's own; the rest are the methods of ``Actions``.
WEIGHTS: dict[str, float] = {
    "time_passes": 20, "deliver": 12, "retry": 5, "duplicate": 3,
    "book": 10, "approve": 8, "decline": 1.5, "cancel_loan": 1, "pickup": 8, "give_back": 5, "tools_beat": 2,
    "wait": 2, "take_offer": 2,
    "gift": 6,
    "order": 6, "order_change": 2, "order_cancel": 2, "reading": 10, "clear_slot": 3, "settle_slot": 3,
    "solar_beat": 5, "slot_cancel": 0.3,
    "ask_for_help": 1.5, "offer_help": 1.5, "delete_request": 0.5, "propose": 4, "group_session": 1, "accept": 4,
    "cancel_session": 1, "join": 3, "leave": 1, "confirm": 7, "dispute": 1, "settle_dispute": 1,
    "vote": 6, "close_voting": 0.4, "codesign_beat": 1, "task_create": 1, "task_join": 3, "task_leave": 0.5,
    "task_confirm": 2,
}  # fmt: skip
