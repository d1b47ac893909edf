"""Cross-exchange suggestions: one group of tests per pair (``apps.front.suggestions``).

Each pair is shown with a worked case (who is told, and the sentence saying why), and
with what must not be suggested: another community, hidden or paused things, a member's
own things, people who are not (or no longer) active members. Recomputing writes no
duplicates; the tasks run through Celery (eagerly in the test suite, on commit).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import dateformat, timezone

from apps.codesign.factories import ChallengeFactory, ProjectFactory, ProposalFactory, TaskFactory, VolunteerFactory
from apps.codesign.models import Challenge, Proposal, Task, Volunteer
from apps.front import suggestions, tasks
from apps.front.models import Suggestion
from apps.peers.factories import MembershipFactory
from apps.peers.models import Membership
from apps.skills import services as skill_services
from apps.skills.factories import OfferFactory, RequestFactory, SkillFactory
from apps.skills.models import Request
from apps.solar import services as solar_services
from apps.solar.factories import MeterFactory
from apps.solar.models import Meter, Slot, StandingOrder
from apps.tools import services as tool_services
from apps.tools.factories import CategoryFactory, ReservationFactory, ToolFactory
from apps.tools.models import Reservation, Tool, WaitlistEntry
from p2pcommons.humanize import format_when_short

Pair = Suggestion.Pair


def rows(user=None, pair=None) -> list[Suggestion]:
    qs = Suggestion.objects.all()
    if user is not None:
        qs = qs.filter(user=user)
    if pair is not None:
        qs = qs.filter(pair=pair)
    return list(qs.order_by("id"))


def neighbor(community, name: str, email: str):
    return MembershipFactory(community=community, user__email=email, user__profile__display_name=name).user


# --- 1. a skill request -> tools and helpers ------------------------------------------------
@pytest.fixture
def plumbing(db):
    return SkillFactory(slug="plumbing", name="Plumbing")


@pytest.fixture
def ana(community):
    return neighbor(community, "Ana Plumber", "ana@example.org")


@pytest.fixture
def hand_tools(db):
    return CategoryFactory(slug="hand-tools", name="Hand tools")


@pytest.fixture
def leaking_tap(member, community, plumbing):
    return RequestFactory(member=member, community=community, title="Fix a leaking tap", skills=[plumbing])


@pytest.fixture
def wrench(owner, community, hand_tools):
    return ToolFactory(
        owner=owner,
        community=community,
        category=hand_tools,
        title="Pipe wrench",
        description="Adjustable; for a leaking tap or a stuck radiator nut.",
    )


@pytest.fixture
def ana_plumbs(ana, community, plumbing):
    return OfferFactory(member=ana, community=community, title="Plumbing odd jobs", skills=[plumbing])


def test_a_skill_request_suggests_a_matching_tool_with_its_reason(leaking_tap, wrench, member):
    suggestions.suggest_for_skill_request(leaking_tap)

    [found] = rows(member, Pair.SKILL_REQUEST_TOOLS)
    assert found.title == "Borrow the Pipe wrench"
    assert found.reason == (
        "Olive Owner lends a pipe wrench in Sunnyside Commons: it may be what your request “Fix a leaking tap” needs."
    )
    assert found.url == f"/tools/{wrench.pk}/"
    assert (found.source_key, found.target_key) == (f"skills.request:{leaking_tap.pk}", f"tools.tool:{wrench.pk}")


def test_a_skill_request_suggests_neighbors_who_offer_the_skill(leaking_tap, ana_plumbs, member):
    suggestions.suggest_for_skill_request(leaking_tap)

    [found] = rows(member, Pair.SKILL_REQUEST_HELPERS)
    assert found.title == "Ana Plumber offers Plumbing"
    assert found.reason == "Ana Plumber offers help with Plumbing, the skill your request “Fix a leaking tap” asks for."
    assert found.url == f"/skills/offers/{ana_plumbs.pk}/"
    assert found.target_key == f"skills.offer:{ana_plumbs.pk}"


def test_a_skill_request_suggests_nothing_unrelated_hidden_paused_foreign_or_own(
    leaking_tap, member, owner, ana, community, other_community, hand_tools, plumbing
):
    like = {"category": hand_tools, "description": "For a leaking tap."}
    ToolFactory(owner=owner, community=community, title="Cordless drill", description="18 V")  # unrelated
    ToolFactory(owner=owner, community=community, title="Pipe wrench", is_hidden=True, **like)
    ToolFactory(owner=owner, community=community, title="Pipe wrench", status=Tool.Status.PAUSED, **like)
    ToolFactory(owner=member, community=community, title="Pipe wrench", **like)  # the requester's own
    far = neighbor(other_community, "Fay Far", "fay@example.org")
    ToolFactory(owner=far, community=other_community, title="Pipe wrench", **like)
    OfferFactory(member=ana, community=community, title="Plumbing", skills=[plumbing], is_hidden=True)
    OfferFactory(member=far, community=other_community, title="Plumbing", skills=[plumbing])
    OfferFactory(member=member, community=community, title="Plumbing", skills=[plumbing])  # own offer
    OfferFactory(member=ana, community=community, title="Garden", skills=[SkillFactory(slug="garden")])

    assert suggestions.suggest_for_skill_request(leaking_tap) == 0
    assert rows() == []


def test_a_skill_request_suggests_nothing_from_neighbors_who_left_or_to_a_stranger(
    leaking_tap, wrench, ana_plumbs, ana, owner, stranger, community, plumbing
):
    Membership.objects.filter(user__in=[ana, owner]).update(status=Membership.Status.SUSPENDED)
    assert suggestions.suggest_for_skill_request(leaking_tap) == 0

    Membership.objects.filter(user__in=[ana, owner]).update(status=Membership.Status.ACTIVE)
    outsider = RequestFactory(member=stranger, community=community, title="Fix a leaking tap", skills=[plumbing])
    assert suggestions.suggest_for_skill_request(outsider) == 0
    assert rows() == []


def test_a_skill_request_suggests_no_tool_where_the_community_does_not_lend_tools(
    leaking_tap, wrench, ana_plumbs, community, member
):
    community.exchanges.filter(key="tools").update(stopped_at=timezone.now())

    suggestions.suggest_for_skill_request(leaking_tap)

    assert [s.pair for s in rows(member)] == [Pair.SKILL_REQUEST_HELPERS]


def test_recomputing_a_skill_request_makes_no_duplicates(leaking_tap, wrench, ana_plumbs):
    assert suggestions.suggest_for_skill_request(leaking_tap) == 2
    first = [(s.pk, s.created_at) for s in rows()]

    assert suggestions.suggest_for_skill_request(leaking_tap) == 2
    assert [(s.pk, s.created_at) for s in rows()] == first


def test_closing_the_request_removes_its_suggestions_but_a_dismissed_one_stays_dismissed(
    leaking_tap, wrench, ana_plumbs, member
):
    suggestions.suggest_for_skill_request(leaking_tap)
    dismissed = rows(member, Pair.SKILL_REQUEST_TOOLS)[0]
    assert suggestions.suggestion_dismiss(suggestion=dismissed, actor=member) is True

    skill_services.request_close(request=leaking_tap, actor=member)
    leaking_tap.refresh_from_db()
    suggestions.suggest_for_skill_request(leaking_tap)
    assert [s.pk for s in rows()] == [dismissed.pk]

    skill_services.request_reopen(request=leaking_tap, actor=member)
    leaking_tap.refresh_from_db()
    suggestions.suggest_for_skill_request(leaking_tap)
    tool_row = rows(member, Pair.SKILL_REQUEST_TOOLS)
    assert [(s.pk, s.dismissed_at is not None) for s in tool_row] == [(dismissed.pk, True)]  # never comes back


def test_posting_a_request_queues_its_suggestions_after_commit(
    member, community, plumbing, wrench, ana_plumbs, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = skill_services.request_create(
            member=member,
            community=community,
            title="Fix a leaking tap",
            skills=[plumbing],
            wanted_from=timezone.localdate() + timedelta(days=1),
            wanted_until=timezone.localdate() + timedelta(days=3),
        )

    assert {(s.pair, s.source_key) for s in rows(member)} == {
        (Pair.SKILL_REQUEST_TOOLS, f"skills.request:{request.pk}"),
        (Pair.SKILL_REQUEST_HELPERS, f"skills.request:{request.pk}"),
    }


def test_the_task_by_id_runs_through_celery_and_twice_is_harmless(leaking_tap, wrench, ana_plumbs):
    assert tasks.suggest_for_skill_request.delay(leaking_tap.pk).get() == 2
    assert tasks.suggest_for_skill_request.delay(leaking_tap.pk).get() == 2
    assert len(rows()) == 2
    assert tasks.suggest_for_skill_request.delay(10**9).get() == 0  # deleted since: nothing to do


# --- 2. a tool nobody can lend -> a neighbor with the skill ---------------------------------
@pytest.fixture
def cutter(owner, community, hand_tools):
    return ToolFactory(owner=owner, community=community, category=hand_tools, title="Tile cutter", description="60 cm")


@pytest.fixture
def window():
    start = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


@pytest.fixture
def taken(cutter, window, community):
    borrower = neighbor(community, "Bo Borrower", "bo@example.org")
    return ReservationFactory(
        tool=cutter, borrower=borrower, starts_at=window[0], ends_at=window[1], status=Reservation.Status.APPROVED
    )


@pytest.fixture
def waiting(taken, cutter, member, window):
    return tool_services.waitlist_join(tool=cutter, member=member, starts_at=window[0], ends_at=window[1])


@pytest.fixture
def ana_tiles(ana, community):
    return OfferFactory(
        member=ana,
        community=community,
        title="Tiling help",
        description="I cut and lay tiles, bathrooms and kitchens.",
        skills=[SkillFactory(slug="tiling", name="Tiling")],
    )


def test_a_tool_nobody_can_lend_suggests_a_neighbor_who_offers_the_skill(waiting, ana_tiles, member, window):
    suggestions.suggest_for_unmet_tool(waiting)

    [found] = rows(member, Pair.TOOL_WAIT_HELPERS)
    assert found.title == "Ask Ana Plumber for help"
    assert found.reason == (
        f"Nobody can lend you a tile cutter from {format_when_short(window[0])} to {format_when_short(window[1])}; "
        "Ana Plumber offers “Tiling help”."
    )
    assert found.url == f"/skills/offers/{ana_tiles.pk}/"
    assert found.source_key == f"tools.waitlistentry:{waiting.pk}"


def test_another_free_tool_like_it_means_the_request_can_be_met(waiting, ana_tiles, ana, community, hand_tools):
    ToolFactory(owner=ana, community=community, category=hand_tools, title="Manual tile cutter")

    assert suggestions.tool_need_unmet(waiting) is False
    assert suggestions.suggest_for_unmet_tool(waiting) == 0


def test_a_busy_or_hidden_tool_like_it_does_not_meet_the_request(
    waiting, ana_tiles, ana, community, hand_tools, window
):
    hidden = ToolFactory(owner=ana, community=community, category=hand_tools, title="Tile cutter", is_hidden=True)
    busy = ToolFactory(owner=ana, community=community, category=hand_tools, title="Tile cutter")
    ReservationFactory(tool=busy, starts_at=window[0], ends_at=window[1], status=Reservation.Status.APPROVED)

    assert suggestions.tool_need_unmet(waiting) is True
    assert hidden.is_hidden


def test_a_waiting_member_is_not_pointed_at_hidden_foreign_or_own_offers(
    waiting, member, ana, community, other_community
):
    tiling = SkillFactory(slug="tiling", name="Tiling")
    far = neighbor(other_community, "Fay Far", "fay@example.org")
    OfferFactory(member=ana, community=community, title="Tiling help", skills=[tiling], is_hidden=True)
    OfferFactory(member=far, community=other_community, title="Tiling help", skills=[tiling])
    OfferFactory(member=member, community=community, title="Tiling help", skills=[tiling])

    assert suggestions.suggest_for_unmet_tool(waiting) == 0


def test_an_entry_offered_its_window_or_of_a_stranger_gets_no_suggestion(waiting, ana_tiles, stranger):
    WaitlistEntry.objects.filter(pk=waiting.pk).update(status=WaitlistEntry.Status.OFFERED)
    waiting.refresh_from_db()
    assert suggestions.suggest_for_unmet_tool(waiting) == 0

    Membership.objects.filter(user=waiting.member).delete()
    WaitlistEntry.objects.filter(pk=waiting.pk).update(status=WaitlistEntry.Status.WAITING)
    waiting.refresh_from_db()
    assert suggestions.suggest_for_unmet_tool(waiting) == 0
    assert rows() == []


def test_joining_a_waitlist_queues_the_suggestion_and_recomputing_makes_no_duplicates(
    taken, cutter, member, window, ana_tiles, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        entry = tool_services.waitlist_join(tool=cutter, member=member, starts_at=window[0], ends_at=window[1])

    assert [s.source_key for s in rows(member)] == [f"tools.waitlistentry:{entry.pk}"]
    assert tasks.suggest_for_unmet_tool.delay(entry.pk).get() == 1
    assert len(rows()) == 1


# --- 3. a co-design task needing a tool -> booking it ---------------------------------------
@pytest.fixture
def challenge(community, organizer):
    return ChallengeFactory(community=community, created_by=organizer, phase=Challenge.Phase.BUILDING)


@pytest.fixture
def sander(owner, community):
    return ToolFactory(owner=owner, community=community, title="Random orbital sander", description="125 mm")


@pytest.fixture
def task(challenge, sander):
    proposal = ProposalFactory(challenge=challenge, status=Proposal.Status.ACCEPTED)
    project = ProjectFactory(proposal=proposal, challenge=challenge)
    return TaskFactory(project=project, title="Sand the planks", tool=sander)


def test_a_task_needing_a_tool_links_its_volunteers_and_organizer_to_booking_it(task, sander, member, organizer):
    VolunteerFactory(task=task, member=member)

    suggestions.suggest_for_task_tool(task)

    day = dateformat.format(task.date, "D j M")
    mine = rows(member, Pair.TASK_TOOL_BOOKING)[0]
    assert mine.title == "Book the random orbital sander for “Sand the planks”"
    assert mine.reason == (
        f"You joined “Sand the planks” ({day}), which needs the random orbital sander Olive Owner lends: "
        "book it for that day."
    )
    assert mine.url == f"/tools/{sander.pk}/#booking-heading"
    assert mine.target_key == f"tools.tool:{sander.pk}"
    theirs = rows(organizer, Pair.TASK_TOOL_BOOKING)[0]
    assert theirs.reason.startswith(f"“Sand the planks” ({day}), a task of your challenge “{task.project.challenge}”")


def test_the_tool_owner_a_volunteer_who_left_and_a_suspended_one_get_no_link(task, owner, community):
    VolunteerFactory(task=task, member=owner)
    gone = VolunteerFactory(task=task, status=Volunteer.Status.LEFT)
    suspended = VolunteerFactory(task=task)
    Membership.objects.filter(user=suspended.member).update(status=Membership.Status.SUSPENDED)

    suggestions.suggest_for_task_tool(task)

    told = {s.user_id for s in rows()}
    assert owner.pk not in told and gone.member_id not in told and suspended.member_id not in told
    assert told == {task.project.challenge.created_by_id}


def test_a_hidden_tool_or_a_finished_task_links_to_nothing_and_leaving_removes_the_link(task, sander, member):
    volunteer = VolunteerFactory(task=task, member=member)
    assert suggestions.suggest_for_task_tool(task) == 2

    Volunteer.objects.filter(pk=volunteer.pk).update(status=Volunteer.Status.LEFT)
    assert suggestions.suggest_for_task_tool(task) == 1
    assert rows(member) == []

    Tool.objects.filter(pk=sander.pk).update(is_hidden=True)
    task.tool.refresh_from_db()
    assert suggestions.suggest_for_task_tool(task) == 0

    Tool.objects.filter(pk=sander.pk).update(is_hidden=False)
    task.tool.refresh_from_db()
    Task.objects.filter(pk=task.pk).update(status=Task.Status.DONE)
    task.refresh_from_db()
    assert suggestions.suggest_for_task_tool(task) == 0
    assert rows() == []


def test_joining_a_task_queues_the_link_and_recomputing_makes_no_duplicates(
    task, member, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        VolunteerFactory(task=task, member=member)

    assert len(rows(member)) == 1
    assert tasks.suggest_for_task_tool.delay(task.pk).get() == 2
    assert tasks.suggest_for_task_tool.delay(task.pk).get() == 2
    assert len(rows()) == 2


# --- 4. buy orders nobody filled -> producers who did not sell ------------------------------
def this_quarter(now: datetime) -> datetime:
    now = now.astimezone(UTC)
    return now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)


@pytest.fixture
def pia(community):
    user = neighbor(community, "Pia Producer", "pia@example.org")
    MeterFactory(owner=user, community=community, name="Roof", kind=Meter.Kind.PRODUCER, peak_capacity_w=8000)
    return user


def trader(community, name: str, kind: str):
    user = neighbor(community, name, f"{name.split()[0].lower()}@example.org")
    meter = MeterFactory(owner=user, community=community, name="Meter", kind=kind, peak_capacity_w=16000)
    return user, meter


def place(meter, start, side: str, wh: int, price: str) -> None:
    solar_services.order_place(
        member=meter.owner,
        meter=meter,
        slot_start=start,
        side=side,
        quantity_wh=wh,
        limit_price=Decimal(price),
        now=start - timedelta(minutes=15),
    )


@pytest.fixture
def short_slot(community, pia):
    """Ben bids 2 kWh at 0.25 and Cleo (panels and home) 0.4 kWh at 0.22; Sam asks 0.30
    for 0.1 kWh, so nothing trades: 2.4 kWh nobody sold."""
    start = this_quarter(timezone.now()) - timedelta(minutes=15)
    _, ben = trader(community, "Ben Buyer", Meter.Kind.CONSUMER)
    _, cleo = trader(community, "Cleo Both", Meter.Kind.BOTH)
    _, sam = trader(community, "Sam Seller", Meter.Kind.PRODUCER)
    place(ben, start, "buy", 2000, "0.25")
    place(cleo, start, "buy", 400, "0.22")
    place(sam, start, "sell", 100, "0.30")
    slot = Slot.objects.get(community=community, start=start)
    assert solar_services.slot_clear(slot_id=slot.pk, now=slot.gate_closes_at)
    slot.refresh_from_db()
    return slot


def test_unfilled_buys_tell_a_producer_who_did_not_sell(short_slot, pia):
    suggestions.suggest_for_unfilled_buys(short_slot)

    [found] = rows(pia)
    at = f"{timezone.localtime(short_slot.start):%H:%M}"
    assert found.pair == Pair.UNFILLED_BUYS_PRODUCER
    assert found.title == "Sell your surplus with a standing order"
    assert found.reason == (
        f"Neighbors wanted 2.4 kWh at up to 0.25 credits/kWh at {at} that nobody sold — "
        "a standing order sells your surplus automatically."
    )
    assert found.url == "/solar/standing/new/"


def test_a_seller_in_the_slot_and_buyers_alone_are_not_told_and_own_bids_do_not_count(short_slot, pia):
    suggestions.suggest_for_unfilled_buys(short_slot)

    told = {s.user.public_name: s.reason for s in rows()}
    assert set(told) == {"Pia Producer", "Cleo Both"}  # not Sam (sold), not Ben (no panels)
    assert told["Cleo Both"].startswith("Neighbors wanted 2 kWh at up to 0.25 credits/kWh")


def test_producers_elsewhere_with_a_standing_order_or_suspended_are_not_told(
    short_slot, pia, other_community, community
):
    far, far_meter = trader(other_community, "Fay Far", Meter.Kind.PRODUCER)
    StandingOrder.objects.create(
        member=pia,
        meter=pia.solar_meters.get(),
        side=StandingOrder.Side.SELL,
        quantity_wh=500,
        limit_price=Decimal("0.20"),
        from_time="10:00",
        until_time="16:00",
    )
    cleo = Membership.objects.get(community=community, user__profile__display_name="Cleo Both")
    cleo.status = Membership.Status.SUSPENDED
    cleo.save()

    assert suggestions.suggest_for_unfilled_buys(short_slot) == 0
    assert far_meter.owner == far


def test_an_open_slot_or_one_where_every_bid_filled_tells_nobody(community, pia):
    start = this_quarter(timezone.now()) - timedelta(minutes=15)
    _, ben = trader(community, "Ben Buyer", Meter.Kind.CONSUMER)
    _, sam = trader(community, "Sam Seller", Meter.Kind.PRODUCER)
    place(ben, start, "buy", 300, "0.25")
    place(sam, start, "sell", 300, "0.20")
    slot = Slot.objects.get(community=community, start=start)
    assert suggestions.suggest_for_unfilled_buys(slot) == 0  # open
    assert solar_services.slot_clear(slot_id=slot.pk, now=slot.gate_closes_at)
    slot.refresh_from_db()
    assert suggestions.suggest_for_unfilled_buys(slot) == 0
    assert rows() == []


def test_the_sweep_finds_the_cleared_slot_once_and_a_producer_hears_once_a_day(short_slot, pia, community):
    assert tasks.sweep_suggestions.delay().get() >= 1
    assert tasks.sweep_suggestions.delay().get() >= 1
    assert [s.source_key for s in rows(pia)] == [f"solar.slot:{short_slot.pk}"]

    later = short_slot.start + timedelta(minutes=15)
    ben = Meter.objects.get(owner__profile__display_name="Ben Buyer")
    place(ben, later, "buy", 500, "0.25")
    slot = Slot.objects.get(community=community, start=later)
    assert solar_services.slot_clear(slot_id=slot.pk, now=slot.gate_closes_at)
    slot.refresh_from_db()
    suggestions.suggest_for_unfilled_buys(slot)
    assert len(rows(pia)) == 1  # the cooldown: one nudge a day


def test_the_sweep_answers_an_older_request_with_a_tool_listed_since(leaking_tap, member, owner, community, hand_tools):
    assert suggestions.suggest_for_skill_request(leaking_tap) == 0
    Request.objects.filter(pk=leaking_tap.pk).update(updated_at=timezone.now() - timedelta(days=2))
    ToolFactory(owner=owner, community=community, category=hand_tools, title="Pipe wrench", description="Leaking tap")

    tasks.sweep_suggestions.delay().get()

    assert [s.title for s in rows(member)] == ["Borrow the Pipe wrench"]
