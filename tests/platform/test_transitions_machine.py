"""The transition mechanism itself (p2pcommons/transitions.py), on a small machine of its
own over waitlist entries: the order of the checks, their words and codes, what pages
and the API are offered, and the conditional UPDATE with its event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from apps.peers.factories import UserFactory
from apps.tools.factories import ToolFactory
from apps.tools.models import WaitlistEntry
from p2pcommons import transitions
from p2pcommons.errors import RuleViolation
from p2pcommons.transitions import Action, Button, Machine, only, refuse_if

pytestmark = pytest.mark.django_db
W = WaitlistEntry.Status


def is_member(entry, user) -> bool:
    return user.pk == entry.member_id


def too_soon(entry, user, now) -> bool:
    return entry.starts_at - now < timedelta(hours=1)


@pytest.fixture
def machine():
    events = []
    saved = dict(transitions.MACHINES)
    built = Machine(
        model=WaitlistEntry,
        record=lambda **event: events.append(event),
        actions=[
            Action(
                "offer",
                "Offer it",
                source=(W.WAITING,),
                target=W.OFFERED,
                who=(only(is_member, "the member"),),
                when=(refuse_if(too_soon, lambda e, u, n: f"Too soon for {e.tool.title}.", "too_soon"),),
                help=lambda e, u: f"Offer {e.tool.title}",
                takes_note=True,
                style="secondary",
            ),
            Action(
                "check",
                "Check",
                source=(W.WAITING, W.OFFERED),
                who=(only(is_member, "the member", message="Not yours.", code="not_yours"),),
                help="Look at it",
                label_for=lambda e, u: f"Check {e.pk}",
            ),
            Action("lapse", "Lapse", source=(W.OFFERED,), target=W.LAPSED, system=True),
        ],
    )
    built.events = events
    yield built
    transitions.MACHINES.clear()
    transitions.MACHINES.update(saved)


@pytest.fixture
def entry(member, community):
    tool = ToolFactory(community=community, title="Ladder")
    start = timezone.now() + timedelta(days=1)
    return WaitlistEntry.objects.create(tool=tool, member=member, starts_at=start, ends_at=start + timedelta(days=1))


def test_a_machine_knows_its_model_names_and_states(machine):
    assert machine.noun == "waitlist entry" and machine.field == "status"
    assert machine.names == ["offer", "check", "lapse"]
    assert machine.member_actions == ["offer", "check"]
    assert machine.member_choices == [("offer", "Offer it"), ("check", "Check")]
    assert machine.state_label(W.OFFERED) == "offered" and machine.state_label(None) == "gone"
    assert transitions.MACHINES["tools.waitlistentry"] is machine
    assert machine in list(transitions.machines())


def test_a_declaration_with_a_repeated_name_or_an_unknown_state_is_refused_at_once():
    with pytest.raises(AssertionError, match="unique"):
        Machine(model=WaitlistEntry, actions=[Action("a", "A", source=(W.WAITING,))] * 2)
    with pytest.raises(AssertionError, match="unknown states"):
        Machine(model=WaitlistEntry, actions=[Action("a", "A", source=("flying",))])
    with pytest.raises(AssertionError, match="unknown states"):
        Machine(model=WaitlistEntry, actions=[Action("a", "A", source=(W.WAITING,), target="gone")])


def test_who_is_checked_first_then_the_state_then_when(machine, entry, member, stranger):
    refused = machine.refusal("offer", entry, stranger)
    assert (str(refused), refused.code) == ("Only the member can do that.", "forbidden")
    entry.status = W.BOOKED
    refused = machine.refusal("offer", entry, member)
    assert (str(refused), refused.code) == (
        "This waitlist entry is booked; it can't become offered now.",
        "illegal_transition",
    )
    assert str(machine.refusal("check", entry, member)) == "This waitlist entry is booked; that can't be done now."
    entry.status = W.WAITING
    late = entry.starts_at - timedelta(minutes=30)
    refused = machine.refusal("offer", entry, member, now=late)
    assert (str(refused), refused.code) == ("Too soon for Ladder.", "too_soon")
    assert machine.refusal("offer", entry, member) is None
    with pytest.raises(RuleViolation, match="Too soon"):
        machine.check("offer", entry, member, now=late)
    machine.check("offer", entry, member)


def test_only_refuses_nobody_signed_in_and_may_speak_its_own_words(machine, entry, member, stranger):
    for nobody in (None, AnonymousUser()):
        assert machine.refusal("offer", entry, nobody).code == "forbidden"
        assert machine.allowed(entry, nobody) == []
    refused = machine.refusal("check", entry, stranger)
    assert (str(refused), refused.code) == ("Not yours.", "not_yours")
    assert machine.codes("offer") == {"forbidden", "illegal_transition", "too_soon"}
    assert machine.codes("check") == {"not_yours", "illegal_transition"}


def test_pages_and_the_api_are_offered_what_the_member_may_do_now_and_never_a_system_step(machine, entry, member):
    assert [a.name for a in machine.allowed(entry, member)] == ["offer", "check"]
    assert machine.allowed_names(entry, member, now=entry.starts_at - timedelta(minutes=5)) == ["check"]
    assert machine.allowed_names(entry, member) == ["offer", "check"]
    assert machine.buttons(entry, member, names=["check"]) == [
        Button(name="check", label=f"Check {entry.pk}", style="", help="Look at it", takes_note=False)
    ]
    assert machine.buttons(entry, member, now=entry.starts_at - timedelta(minutes=5)) == [
        Button(name="check", label=f"Check {entry.pk}", help="Look at it")
    ]
    [offer, _] = machine.buttons(entry, member)
    assert offer == Button(name="offer", label="Offer it", style="secondary", help="Offer Ladder", takes_note=True)
    entry.status = W.OFFERED
    assert machine.allowed_names(entry, member) == ["check"]  # lapse is the platform's


def test_step_between_finds_the_member_step_for_a_change_of_state(machine):
    assert machine.step_between(W.WAITING, W.OFFERED) == "offer"
    assert machine.step_between(W.OFFERED, W.LAPSED) is None  # a system step
    assert machine.step_between(W.BOOKED, W.OFFERED) is None


def test_apply_moves_the_state_with_its_stamps_and_records_the_event(machine, entry, member):
    when = timezone.now()
    moved = machine.apply("offer", entry, member, note="Go", offered_at=when)
    assert moved.status == W.OFFERED and moved.offered_at == when
    assert WaitlistEntry.objects.get(pk=entry.pk).status == W.OFFERED
    assert machine.events == [{"obj": entry, "actor": member, "source": W.WAITING, "target": W.OFFERED, "note": "Go"}]


def test_apply_checks_unless_told_it_was_checked_and_never_moves_from_another_state(machine, entry, member, stranger):
    with pytest.raises(RuleViolation, match="Only the member"):
        machine.apply("offer", entry, stranger)
    assert machine.apply("offer", entry, stranger, checked=True).status == W.OFFERED
    entry.status = W.WAITING  # a stale copy: the row moved on meanwhile
    with pytest.raises(RuleViolation) as refused:
        machine.apply("offer", entry, member)
    assert refused.value.code == "illegal_transition"
    assert str(refused.value) == "This waitlist entry is offered; it can't become offered now."
    WaitlistEntry.objects.filter(pk=entry.pk).update(status=W.BOOKED)
    entry.status = W.OFFERED
    with pytest.raises(RuleViolation, match="is booked; it can't become offer lapsed"):
        machine.apply("lapse", entry, None)
    assert len(machine.events) == 1
    with pytest.raises(AssertionError, match="changes no state"):
        machine.apply("check", entry, member)


def test_apply_with_the_check_done_still_refuses_a_wrong_state_and_touches_only_its_row(machine, entry, member):
    other = WaitlistEntry.objects.create(
        tool=entry.tool, member=UserFactory(), starts_at=entry.starts_at, ends_at=entry.ends_at
    )
    entry.status = W.BOOKED
    with pytest.raises(RuleViolation) as refused:
        machine.apply("offer", entry, member, checked=True)
    assert refused.value.code == "illegal_transition"
    entry.status = W.WAITING
    machine.apply("offer", entry, member)
    assert WaitlistEntry.objects.get(pk=other.pk).status == W.WAITING


def test_nobody_signed_in_is_offered_nothing_even_an_action_anyone_may_take(entry):
    saved = dict(transitions.MACHINES)
    try:
        open_to_all = Machine(model=WaitlistEntry, actions=[Action("look", "Look", source=(W.WAITING,))])
        assert open_to_all.allowed_names(entry, UserFactory()) == ["look"]
        assert open_to_all.allowed(entry, AnonymousUser()) == []
        assert open_to_all.allowed(entry, None) == []
    finally:
        transitions.MACHINES.clear()
        transitions.MACHINES.update(saved)


def test_a_system_step_is_taken_by_nobody(machine, entry):
    WaitlistEntry.objects.filter(pk=entry.pk).update(status=W.OFFERED)
    entry.refresh_from_db()
    assert machine.apply("lapse", entry, None).status == W.LAPSED
    assert machine.events[-1]["actor"] is None


def test_a_label_and_help_may_be_fixed_words_or_depend_on_the_object(entry):
    fixed = Action("a", "Plain", source=(W.WAITING,), help="Words")
    assert (fixed.label_of(entry, None), fixed.help_of(entry, None)) == ("Plain", "Words")
    user = UserFactory()
    worded = Action("b", "Plain", source=(W.WAITING,), label_for=lambda e, u: "Own", help=lambda e, u: "Own help")
    assert (worded.label_of(entry, user), worded.help_of(entry, user)) == ("Own", "Own help")
