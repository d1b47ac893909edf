"""One rule, three faces: for every step of a skill session and of a place at it, in every
state, at every moment that matters and for every role, the buttons and forms on the
session's page, the API's ``actions`` and the service's own answer are the same (issue
12). The rules live in ``apps.skills.transitions`` (``SESSION``, ``SEAT``, ``OFFER``,
``REQUEST``); a page, serializer or service that worked a rule out on its own would
drift from them and fail here.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.peers.factories import MembershipFactory
from apps.skills import services
from apps.skills.factories import OfferFactory, RequestFactory, SeatFactory, SessionFactory
from apps.skills.models import Offer, Seat, Session
from apps.skills.transitions import DISPUTE_WINDOW, OFFER, REQUEST, SEAT, SESSION
from p2pcommons.errors import RuleViolation

pytestmark = pytest.mark.django_db
S = Session.Status
P = Seat.Status
API = "/api/v1/skills"

# When the session starts, seen from now: in two days; three hours ago; so long ago that
# hours that moved two hours after its start are past the dispute window.
MOMENTS = {
    "before": timedelta(days=2),
    "after": -timedelta(hours=3),
    "late": -(DISPUTE_WINDOW + timedelta(days=3)),
}
ROLES = ("helper", "learner", "other_learner", "neighbor", "organizer", "outsider")
SESSION_STEPS = ("accept", "join", "cancel", "confirm")
SEAT_STEPS = ("confirm", "leave", "dispute", "settle")

# A state of the session: its status, who proposed it, its capacity, and the places of
# the learner and (group sessions) the other learner: a status, or (status, extra) for
# figures already in or a settled dispute.
ONE_TO_ONE = {
    "proposed by the learner": (S.PROPOSED, "learner", 1, P.BOOKED, None),
    "proposed by the helper": (S.PROPOSED, "helper", 1, P.BOOKED, None),
    "booked": (S.SCHEDULED, "learner", 1, P.BOOKED, None),
    "booked, the learner's figure in": (S.SCHEDULED, "learner", 1, (P.BOOKED, "figure"), None),
    "disputed": (S.SCHEDULED, "learner", 1, P.DISPUTED, None),
    "hours moved": (S.COMPLETED, "learner", 1, P.COMPLETED, None),
    "settled": (S.COMPLETED, "learner", 1, (P.COMPLETED, "settled"), None),
    "cancelled": (S.CANCELLED, "learner", 1, P.LEFT, None),
}
GROUP = {
    "booked": (S.SCHEDULED, "helper", 3, P.BOOKED, P.BOOKED),
    "full": (S.SCHEDULED, "helper", 2, P.BOOKED, P.BOOKED),
    "the learner left": (S.SCHEDULED, "helper", 3, P.LEFT, P.BOOKED),
    "the learner disputes": (S.SCHEDULED, "helper", 3, P.DISPUTED, P.BOOKED),
    "the learner's hours moved": (S.SCHEDULED, "helper", 3, P.COMPLETED, P.BOOKED),
    "completed": (S.COMPLETED, "helper", 3, P.COMPLETED, (P.COMPLETED, "settled")),
    "cancelled": (S.CANCELLED, "helper", 3, P.LEFT, P.LEFT),
}
SCENARIOS = [(f"one-to-one, {name}", spec) for name, spec in ONE_TO_ONE.items()] + [
    (f"group, {name}", spec) for name, spec in GROUP.items()
]


class _Rollback(Exception):
    pass


def _allows(call) -> bool:
    """Whether a service takes the step now, tried inside a transaction rolled back."""
    try:
        with transaction.atomic():
            call()
            raise _Rollback
    except _Rollback:
        return True
    except RuleViolation:
        return False


@pytest.fixture
def people(community, owner, member, organizer, other_community):
    return {
        "community": community,
        "helper": owner,
        "learner": member,
        "other_learner": MembershipFactory(community=community).user,
        "neighbor": MembershipFactory(community=community).user,
        "organizer": organizer,
        "outsider": MembershipFactory(community=other_community).user,
    }


def _seat(session: Session, learner, spec) -> Seat:
    status, extra = spec if isinstance(spec, tuple) else (spec, "")
    fields = {"status": status}
    if extra == "figure":
        fields["learner_hours"] = Decimal("2.00")
    if status == P.COMPLETED:
        completed = session.starts_at + timedelta(hours=2)
        fields.update(learner_hours=Decimal("2"), helper_hours=Decimal("2"), hours=Decimal("2"), completed_at=completed)
        if extra == "settled":
            fields["settled_at"] = completed + timedelta(days=1)
    if status == P.DISPUTED:
        fields["dispute_reason"] = "It took one hour."
    return SeatFactory(session=session, learner=learner, **fields)


def _session(spec, moment: str, people) -> Session:
    status, proposer, capacity, mine, other = spec
    session = SessionFactory(
        helper=people["helper"],
        community=people["community"],
        status=status,
        capacity=capacity,
        proposed_by=people[proposer],
        starts_at=timezone.now() + MOMENTS[moment],
        planned_hours=Decimal("2.00"),
    )
    _seat(session, people["learner"], mine)
    if other is not None:
        _seat(session, people["other_learner"], other)
    return session


# --- the three faces ------------------------------------------------------------------------
def _page(client, session: Session) -> tuple[set[str], dict[int, set[str]]] | None:
    """The session's buttons and each place's forms on its page; None when it is a 404."""
    response = client.get(reverse("skills:session", args=[session.pk]))
    if response.status_code == 404:
        return None
    assert response.status_code == 200
    page = response.content.decode()
    steps = set(re.findall(rf'action="/skills/sessions/{session.pk}/([a-z]+)/"', page))
    seats: dict[int, set[str]] = {seat.pk: set() for seat in session.seats.all()}
    for seat_pk, name in re.findall(rf'action="/skills/sessions/{session.pk}/seats/(\d+)/([a-z]+)/"', page):
        seats[int(seat_pk)].add(name)
    return steps, seats


def _api(client, session: Session) -> tuple[set[str], dict[int, set[str]]] | None:
    """The session's and each place's ``actions`` in the API: the session as its people
    read it, or as an open group session in the list of those a member could join."""
    response = client.get(f"{API}/sessions/{session.pk}/")
    if response.status_code == 404:
        listed = client.get(f"{API}/sessions/", {"open": "true"}).json()["results"]
        found = [data for data in listed if data["id"] == session.pk]
        if not found:
            return None
        data = found[0]
    else:
        assert response.status_code == 200
        data = response.json()
    return set(data["actions"]), {seat["id"]: set(seat["actions"]) for seat in data["seats"]}


def _service_session_steps(session: Session, user) -> set[str]:
    fresh = lambda: Session.objects.get(pk=session.pk)  # noqa: E731 - each try reads the row anew
    tries = {
        "accept": lambda: services.session_accept(session=fresh(), actor=user),
        "join": lambda: services.seat_join(session=fresh(), learner=user),
        "cancel": lambda: services.session_cancel(session=fresh(), actor=user),
        # A figure no place holds yet, so no confirmation counts as a retry.
        "confirm": lambda: services.session_confirm(session=fresh(), actor=user, hours="2.25"),
    }
    return {step for step, call in tries.items() if _allows(call)}


def _service_seat_steps(seat: Seat, user, helper) -> set[str]:
    fresh = lambda: Seat.objects.get(pk=seat.pk)  # noqa: E731
    tries = {
        "leave": lambda: services.seat_leave(seat=fresh(), actor=user),
        "dispute": lambda: services.seat_dispute(seat=fresh(), actor=user, reason="Not as agreed"),
        "settle": lambda: services.dispute_settle(seat=fresh(), actor=user, hours="1", reason="Both agreed"),
    }
    steps = {step for step, call in tries.items() if _allows(call)}
    # Confirming a place: the helper names its learner; a learner can only name their own.
    if user.pk == helper.pk:
        confirm = lambda: services.session_confirm(session=seat.session, actor=user, hours="2.25", learner=seat.learner)  # noqa: E731
    elif user.pk == seat.learner_id:
        confirm = lambda: services.session_confirm(session=seat.session, actor=user, hours="2.25")  # noqa: E731
    else:
        confirm = None
    if confirm is not None and _allows(confirm):
        steps.add("confirm")
    return steps


@pytest.mark.parametrize("moment", list(MOMENTS))
@pytest.mark.parametrize(("scenario", "spec"), SCENARIOS, ids=[name for name, _ in SCENARIOS])
def test_the_page_the_api_and_the_services_agree_on_every_session_step(web_as, api_as, people, scenario, spec, moment):
    session = _session(spec, moment, people)
    seats = list(session.seats.all())
    for role in ROLES:
        user = people[role]
        where = f"{role}, {scenario}, {moment}"
        page = _page(web_as(user), session)
        api = _api(api_as(user), session)
        service = _service_session_steps(session, user)
        service_seats = {seat.pk: _service_seat_steps(seat, user, people["helper"]) for seat in seats}
        # Settling is the organizers' (in the admin); the declaration says who may.
        for seat in seats:
            may_settle = role == "organizer" and seat.status == P.DISPUTED
            assert ("settle" in service_seats[seat.pk]) == may_settle, where
        if page is None:  # the session does not exist for them: no step is theirs
            assert api is None, where
            assert service == set(), where
            assert all(steps <= {"settle"} for steps in service_seats.values()), where
            continue
        assert api is not None, where
        page_steps, page_seats = page
        api_steps, api_seats = api
        my_seat = next((seat for seat in seats if seat.learner_id == user.pk), None)
        # The session's buttons; a learner's "give up my place" is their place's step.
        assert page_steps - {"leave"} == service - {"confirm"}, where
        assert ("leave" in page_steps) == (my_seat is not None and "leave" in service_seats[my_seat.pk]), where
        assert api_steps == service, where
        # Each place: the forms to confirm or dispute its hours, and its actions in the API.
        for seat in seats:
            assert page_seats[seat.pk] == service_seats[seat.pk] & {"confirm", "dispute"}, (where, seat.learner_id)
            assert api_seats[seat.pk] == service_seats[seat.pk], (where, seat.learner_id)
        # Confirming the session is confirming one's places.
        assert ("confirm" in service) == any("confirm" in steps for steps in service_seats.values()), where


def test_the_steps_walked_here_are_every_step_a_member_can_take():
    assert set(SESSION.member_actions) == set(SESSION_STEPS)
    assert set(SEAT.member_actions) == set(SEAT_STEPS)


def test_a_session_page_shows_its_timeline_in_plain_words(web_as, community, owner, member):
    session = services.session_propose(
        proposer=member,
        helper=owner,
        learner=member,
        community=community,
        title="Fix the gears",
        starts_at=timezone.now() + timedelta(days=1),
        planned_hours=Decimal("1"),
        place="Garage",
    )
    services.session_accept(session=session, actor=owner)
    services.session_cancel(session=session, actor=member, reason="Fixed it myself")
    events = list(session.events.values_list("from_status", "to_status", "actor"))
    assert events == [
        ("", "proposed", member.pk),
        ("proposed", "scheduled", owner.pk),
        ("scheduled", "cancelled", member.pk),
    ]
    page = " ".join(
        re.sub(
            r"<[^>]+>", " ", web_as(owner).get(reverse("skills:session", args=[session.pk])).content.decode()
        ).split()
    )
    assert "Proposed by Max Member on " in page
    assert "Booked by Olive Owner on " in page
    assert "Cancelled by Max Member on " in page and "Fixed it myself" in page


def test_a_session_completed_by_the_hours_is_on_its_timeline_as_the_platforms(community, owner, member):
    session = SessionFactory(helper=owner, community=community, starts_at=timezone.now() - timedelta(hours=2))
    SeatFactory(session=session, learner=member)
    services.session_confirm(session=session, actor=member, hours="2")
    services.session_confirm(session=session, actor=owner, hours="2")
    assert list(session.events.values_list("from_status", "to_status", "actor")) == [("scheduled", "completed", None)]


# --- offers and requests ------------------------------------------------------------------------
LISTING_STATES = {
    "open": ("open", timedelta(days=100)),
    "open, expiring soon": ("open", timedelta(days=10)),
    "open, past its date": ("open", -timedelta(days=1)),
    "closed": ("closed", timedelta(days=100)),
    "closed, past its date": ("closed", -timedelta(days=1)),
}


def _listing_service_steps(listing, user) -> set[str]:
    model = type(listing)
    fresh = lambda: model.objects.get(pk=listing.pk)  # noqa: E731
    if model is Offer:
        tries = {
            "close": lambda: services.offer_close(offer=fresh(), actor=user),
            "reopen": lambda: services.offer_reopen(offer=fresh(), actor=user),
            "renew": lambda: services.offer_renew(offer=fresh(), actor=user),
        }
    else:
        tries = {
            "close": lambda: services.request_close(request=fresh(), actor=user),
            "reopen": lambda: services.request_reopen(request=fresh(), actor=user),
        }
    return {step for step, call in tries.items() if _allows(call)}


@pytest.mark.parametrize("kind", ["offer", "request"])
@pytest.mark.parametrize("state", list(LISTING_STATES))
def test_my_page_the_api_and_the_services_agree_on_closing_reopening_and_renewing(
    web_as, api_as, community, member, kind, state
):
    status, expires_in = LISTING_STATES[state]
    factory = OfferFactory if kind == "offer" else RequestFactory
    listing = factory(member=member, community=community, status=status, expires_at=timezone.now() + expires_in)
    machine = OFFER if kind == "offer" else REQUEST
    page = web_as(member).get(reverse("skills:mine")).content.decode()
    shown = set(re.findall(rf'action="/skills/{kind}s/{listing.pk}/([a-z]+)/"', page))
    api = api_as(member).get(f"{API}/{kind}s/{listing.pk}/")
    service = _listing_service_steps(listing, member)
    assert shown == service == set(machine.allowed_names(listing, member)), state
    assert set(api.json()["actions"]) == service, state
    neighbor = MembershipFactory(community=community).user
    assert _listing_service_steps(listing, neighbor) == set(), state  # only its member


def test_the_listing_steps_walked_here_are_every_step_a_member_can_take():
    assert set(OFFER.member_actions) == {"close", "reopen", "renew"}
    assert set(REQUEST.member_actions) == {"close", "reopen"}
