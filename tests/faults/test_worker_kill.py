"""kill -9 a real worker in the middle of each kind of background work, restart it, and
check the work is done once: nothing lost, nothing doubled, the ledger verifies.

Each test arms a pause point (tests/faults/hooks.py) inside the service the task calls,
enqueues the work through Redis, waits until the worker is paused there (with the
service's transaction open where it has one), SIGKILLs the worker's whole process group,
and starts a new worker. The broker delivers the unacknowledged message again after the
visibility timeout (a few seconds here, an hour in production: see
``CELERY_VISIBILITY_TIMEOUT``), and the test waits until the queue is empty and nothing
is left unacknowledged before it looks at the database. One worker serves the module,
restarted after each kill; the queue is the module's own and is purged before each test.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import redis
from django.core.management import call_command
from django.db.models import Count, Sum
from django.utils import timezone

from apps.codesign import services as codesign
from apps.codesign.models import Challenge, Project, Volunteer
from apps.ledger.models import Account, Currency, Transfer
from apps.notifications.models import Notification
from apps.notifications.services import notify
from apps.peers.factories import MembershipFactory
from apps.peers.models import Profile
from apps.privacy import export
from apps.privacy.models import ExportJob
from apps.skills import services as skills
from apps.skills.factories import SkillCategoryFactory, SkillFactory
from apps.skills.models import Match
from apps.solar import services as solar
from apps.solar.factories import MeterFactory
from apps.solar.models import Meter, MeterReading, Order, Slot, SlotEvent, Trade
from apps.solar.services import Row
from apps.solar.tasks import clear_due_slots, clear_slot, settle_due_slots
from tests import reliability
from tests.faults.harness import CeleryStack, make_stack_fixture, requires_redis, wait_for
from tests.faults.scenes import bench_challenge

pytestmark = [pytest.mark.postgres, requires_redis, pytest.mark.django_db(transaction=True)]

celery_stack = make_stack_fixture()
FIGURES = {"tests": 0, "faults": 0, "tasks": 0, "invariants": 0}


@pytest.fixture(scope="module", autouse=True)
def reliability_line(worker):
    reliability.record(
        "worker-kill",
        lambda: (
            f"tests={FIGURES['tests']} faults={FIGURES['faults']} tasks={FIGURES['tasks']} "
            f"invariants={FIGURES['invariants']}"
        ),
    )
    yield
    FIGURES["tasks"] = worker.log().count("succeeded in")


@pytest.fixture(scope="module")
def worker(celery_stack):
    return celery_stack.worker(pool="prefork")


@pytest.fixture
def stack(celery_stack: CeleryStack, worker) -> CeleryStack:
    """The module's stack, with a live worker, an empty queue and nothing armed."""
    for leftover in celery_stack.hook_dir.glob("*.armed"):
        leftover.unlink()
    paused = list(celery_stack.hook_dir.glob("*.reached"))  # a failed test left the worker paused
    if paused or not worker.alive():
        worker.restart()
    for leftover in paused:
        leftover.unlink()
    celery_stack.purge()
    FIGURES["tests"] += 1
    return celery_stack


def settled_down(stack: CeleryStack, timeout: float = 40.0) -> None:
    """Wait until the queue is empty and no message is left unacknowledged: every task
    (and every task it enqueued) ran and finished."""
    from django.conf import settings

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)

    def idle() -> bool:
        return client.llen(stack.queue) == 0 and client.hlen("unacked") == 0

    # A consumer pops a message off the queue before it records it as unacknowledged, so
    # for an instant it is in neither: idle only when it stays so over a second.
    done = wait_for(lambda: all(idle() and not time.sleep(0.25) for _ in range(4)), timeout, 0.2)
    client.close()
    assert done, f"the worker did not finish within {timeout} s:\n{stack.processes[0].log()[-3000:]}"


def kill_mid(stack: CeleryStack, worker, point: str, enqueue, *, let_through: int = 0) -> None:
    """Arm ``point``, enqueue the work, SIGKILL the worker once it is paused there, start
    a new one (the point is disarmed: it fired) and wait until all the work is done."""
    stack.arm(point, let_through=let_through)
    with stack.publishing():
        enqueue()
    stack.wait_reached(point)
    received = re.findall(r"Task ([\w.]+\[[\w-]+\]) received", worker.log(since_start=True))
    worker.kill()
    FIGURES["faults"] += 1
    assert not worker.alive()
    (stack.hook_dir / f"{point}.reached").unlink()
    worker.restart()
    # The task the dead worker held is delivered again to the new one (after the
    # visibility timeout), then everything settles.
    again = f"{received[-1]} received"
    assert wait_for(lambda: again in worker.log(since_start=True), 40.0), worker.log(since_start=True)[-3000:]
    settled_down(stack)


def ledger_verifies() -> None:
    call_command("verify_ledger")  # raises CommandError on a broken chain or balance
    for currency in Currency.values:
        for community_id, total in (
            Account.objects.filter(currency=currency).values_list("community").annotate(s=Sum("balance"))
        ):
            assert total == 0, f"community {community_id}: {currency} balances sum to {total}"
    FIGURES["invariants"] += 1


# --- solar ----------------------------------------------------------------------------
def last_quarter(now: datetime) -> datetime:
    """A slot whose delivery ended: its gate has closed and its readings may be in."""
    now = now.astimezone(UTC).replace(second=0, microsecond=0)
    return now.replace(minute=now.minute - now.minute % 15) - timedelta(minutes=30)


@pytest.fixture
def market(community):
    """Pia's panels sell 600 Wh at 0.20; Ben bids 400 Wh at 0.30 and Cleo 300 Wh at 0.24,
    for a slot now past: it clears as two trades (400 and 200 Wh) at 0.22."""
    people = {
        name: MembershipFactory(community=community, user__profile__display_name=name).user
        for name in ("Pia", "Ben", "Cleo")
    }
    meters = {
        "Pia": MeterFactory(owner=people["Pia"], community=community, kind=Meter.Kind.PRODUCER),
        "Ben": MeterFactory(owner=people["Ben"], community=community, kind=Meter.Kind.CONSUMER),
        "Cleo": MeterFactory(owner=people["Cleo"], community=community, kind=Meter.Kind.CONSUMER),
    }
    start = last_quarter(timezone.now())
    book = [("Pia", "sell", 600, "0.20"), ("Ben", "buy", 400, "0.30"), ("Cleo", "buy", 300, "0.24")]
    for i, (name, side, wh, price) in enumerate(book):
        solar.order_place(member=people[name], meter=meters[name], slot_start=start, side=side, quantity_wh=wh,
                          limit_price=Decimal(price), now=start - timedelta(hours=1, seconds=-i))  # fmt: skip
    return Slot.objects.get(start=start), meters


def test_a_slot_whose_worker_died_mid_clearing_is_cleared_once(stack, worker, market):
    slot, _ = market
    kill_mid(stack, worker, "solar.clear", lambda: clear_slot.delay(slot.pk))
    with stack.publishing():  # and the one-minute sweep, as beat sends it: nothing left to do
        clear_due_slots.delay()
    settled_down(stack)

    slot.refresh_from_db()
    assert slot.status == Slot.Status.CLEARED
    assert SlotEvent.objects.filter(slot=slot, target=Slot.Status.CLEARED).count() == 1
    assert list(Trade.objects.filter(slot=slot).order_by("seq").values_list("seq", "quantity_wh")) == [
        (1, 400),
        (2, 200),
    ]
    assert slot.clearing_price == Decimal("0.2200") and slot.volume_wh == 600
    assert dict(Order.objects.filter(slot=slot).values_list("side").annotate(Sum("filled_wh"))) == {
        "buy": 600,
        "sell": 600,
    }
    told = Notification.objects.filter(kind="solar.cleared").values_list("recipient").annotate(n=Count("id"))
    assert sorted(n for _, n in told) == [1, 1, 1], "each trader is told once how their orders did"
    FIGURES["invariants"] += 5


def test_a_slot_whose_worker_died_between_two_payments_is_settled_and_paid_once(stack, worker, market):
    slot, meters = market
    assert solar.slot_clear(slot_id=slot.pk, now=slot.gate_closes_at)

    def read_meters() -> None:
        """The last meter's reading enqueues the settlement (the slot is then due)."""
        for name, imported, exported in (("Pia", 0, 600), ("Ben", 400, 0), ("Cleo", 200, 0)):
            meter = meters[name]
            solar.readings_record(meter=meter, rows=[Row(slot.start, imported, exported)],
                                  source=MeterReading.Source.FORM, actor=meter.owner, now=slot.end)  # fmt: skip

    # The first trade's payment is written, then the worker dies before the second's.
    kill_mid(stack, worker, "solar.settle", read_meters, let_through=1)
    with stack.publishing():  # and the five-minute sweep, as beat sends it: nothing left to do
        settle_due_slots.delay()
    settled_down(stack)

    slot.refresh_from_db()
    assert slot.status == Slot.Status.SETTLED
    assert SlotEvent.objects.filter(slot=slot, target=Slot.Status.SETTLED).count() == 1
    paid = Transfer.objects.filter(idempotency_key__startswith="solar-trade-")
    assert sorted(paid.values_list("amount", flat=True)) == [Decimal("0.04"), Decimal("0.09")]
    assert set(Trade.objects.filter(slot=slot).values_list("status", flat=True)) == {Trade.Status.SETTLED}
    assert Trade.objects.filter(slot=slot, transfer__isnull=True).count() == 0
    ledger_verifies()
    FIGURES["invariants"] += 3


# --- notifications --------------------------------------------------------------------
@pytest.fixture
def three_notices(community):
    """Three neighbors, each with one notice that is emailed at once (no sender limit)."""
    people = [
        MembershipFactory(community=community, user__email=f"n{i}@example.org").user for i in range(3)
    ]  # fmt: skip

    def send() -> None:
        notify(recipients=people, kind="ledger.received", text="You received 1 hour.")

    return send


def test_notifications_cut_off_by_a_worker_kill_are_never_emailed_twice(stack, worker, three_notices):
    send = three_notices
    kill_mid(stack, worker, "notifications.send", send, let_through=1)
    with stack.publishing():  # the outbox sweep, as beat sends it every minute
        from apps.notifications.tasks import flush_notification_outbox

        flush_notification_outbox.delay()
    settled_down(stack)

    sent_to = [message["To"] for message in stack.emails()]
    assert sorted(sent_to) == sorted(set(sent_to)), f"someone was emailed twice: {sent_to}"
    assert "n0@example.org" in sent_to and "n2@example.org" in sent_to  # before and after the kill
    assert Notification.objects.filter(delivered_at__isnull=True).count() == 0
    FIGURES["invariants"] += 2


def test_a_notification_whose_worker_died_while_emailing_it_is_still_emailed(stack, worker, three_notices):
    send = three_notices
    for path in stack.email_dir.glob("*"):  # the module's worker shares one email folder
        path.unlink()
    kill_mid(stack, worker, "notifications.send", send, let_through=1)
    with stack.publishing():
        from apps.notifications.tasks import flush_notification_outbox

        flush_notification_outbox.delay()
    settled_down(stack)
    assert sorted(message["To"] for message in stack.emails()) == ["n0@example.org", "n1@example.org",
                                                                     "n2@example.org"]  # fmt: skip


# --- skills ---------------------------------------------------------------------------
def test_a_request_whose_worker_died_mid_matching_is_matched_and_told_once(stack, worker, community):
    bikes = SkillFactory(category=SkillCategoryFactory(slug="repair-f"), slug="bikes-f", name="Bike repair (f)")
    asker, helper = (MembershipFactory(community=community).user for _ in range(2))
    Profile.objects.filter(user__in=[asker, helper]).update(approx_latitude=Decimal("52.37"),
                                                            approx_longitude=Decimal("4.89"))  # fmt: skip
    from datetime import time

    offer = skills.offer_create(member=helper, community=community, title="I fix bikes", skills=[bikes],
                                windows=[(5, time(9), time(12))])  # fmt: skip
    day = timezone.localdate() + timedelta(days=(5 - timezone.localdate().weekday()) % 7 or 7)

    def ask() -> None:
        skills.request_create(member=asker, community=community, title="My gears slip", skills=[bikes],
                              wanted_from=day, wanted_until=day)  # fmt: skip

    kill_mid(stack, worker, "skills.match", ask)

    assert list(Match.objects.values_list("offer", flat=True)) == [offer.pk]
    told = sorted(Notification.objects.filter(kind="skills.match").values_list("recipient", flat=True))
    assert told == sorted([asker.pk, helper.pk]), "the requester and the helper, once each"
    assert Match.objects.filter(notified_at__isnull=False).count() == 1
    FIGURES["invariants"] += 3


# --- privacy --------------------------------------------------------------------------
def test_an_export_whose_worker_died_mid_zip_completes_with_one_file(stack, worker, member):
    kill_mid(stack, worker, "privacy.export", lambda: export.export_request(user=member))

    job = ExportJob.objects.get(user=member)
    files = sorted(p.name for p in stack.export_dir.rglob("*") if p.is_file())
    assert job.status == ExportJob.Status.READY, f"job is {job.status}; files: {files}"
    assert files == [job.file.rsplit("/", 1)[-1]]


def test_an_export_cut_off_by_a_worker_kill_never_offers_a_partial_file(stack, worker, member, settings):
    settings.EXPORT_ROOT = stack.export_dir  # where the worker builds it
    kill_mid(stack, worker, "privacy.export", lambda: export.export_request(user=member))

    job = ExportJob.objects.get(user=member)
    assert job.status != ExportJob.Status.READY or (stack.export_dir / job.file).is_file()
    assert not list(stack.export_dir.rglob("*.zip")) or job.status == ExportJob.Status.READY
    assert export.downloadable_job(user=member, token=job.token)[1] is (job.status == ExportJob.Status.READY)
    FIGURES["invariants"] += 2


# --- co-design ------------------------------------------------------------------------
@pytest.fixture
def volunteer(community, organizer) -> Volunteer:
    """A volunteer on a 2-hour task of a challenge being built."""
    challenge = bench_challenge(community=community, organizer=organizer)
    author, voter, worker_bee = (MembershipFactory(community=community).user for _ in range(3))
    challenge = codesign.challenge_step(challenge=challenge, actor=organizer, step="open_proposals")
    bench = codesign.proposal_create(challenge=challenge, author=author, title="Oak bench", description="Oak.",
                                     cost=Decimal("250"), hours=Decimal("6"), submit=True)  # fmt: skip
    codesign.proposal_answer(proposal=bench, actor=organizer, accept=True, publish=True)
    challenge = codesign.challenge_step(challenge=challenge, actor=organizer, step="open_voting")
    codesign.vote_set(proposal=bench, voter=voter, dots=3)
    codesign.challenge_step(challenge=challenge, actor=organizer, step="close_voting")
    assert Challenge.objects.get(pk=challenge.pk).phase == Challenge.Phase.BUILDING
    task = codesign.task_create(project=Project.objects.get(proposal=bench), actor=organizer, title="Sand",
                                hours=Decimal("2"))  # fmt: skip
    return codesign.task_join(task=task, member=worker_bee)


def test_a_volunteer_credit_whose_worker_died_mid_transaction_is_paid_once(stack, worker, volunteer, organizer):
    from p2pcommons.celery import app

    kill_mid(
        stack,
        worker,
        "codesign.credit",
        lambda: app.send_task("tests.faults.hooks.confirm_volunteer", args=[volunteer.pk, organizer.pk]),
    )

    volunteer.refresh_from_db()
    assert volunteer.status == Volunteer.Status.CONFIRMED and volunteer.transfer_id is not None
    credits = Transfer.objects.filter(idempotency_key=f"codesign-volunteer-{volunteer.pk}")
    assert list(credits.values_list("amount", flat=True)) == [Decimal("2.00")]
    account = Account.objects.get(owner=volunteer.member, currency=Currency.HOUR)
    assert account.balance == Decimal("2.00")
    assert Notification.objects.filter(kind="codesign.task", recipient=volunteer.member).count() == 1
    ledger_verifies()
    FIGURES["invariants"] += 3
