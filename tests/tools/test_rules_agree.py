"""One rule, three faces: for every loan step, in every state, at every moment that
matters and for every role, the buttons on the loan page, the API's ``actions`` and
the service's own answer are the same (issue 12). The rules live in
``apps.tools.transitions.LOAN``; a page, serializer or service that worked a rule out
on its own would drift from it and fail here.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.peers.factories import MembershipFactory, UserFactory
from apps.tools import services
from apps.tools.factories import ReservationFactory, ToolFactory
from apps.tools.models import ConditionReport, Reservation, Tool, WaitlistEntry
from apps.tools.transitions import LISTING, LOAN, REPORT_ACTIONS, STEPS, WAITLIST
from p2pcommons.errors import RuleViolation

pytestmark = pytest.mark.django_db
S = Reservation.Status

# When the loan starts, seen from now: its pickup window open (starts within the hour),
# not yet open (in three days), or closed (started a day ago).
MOMENTS = {"soon": timedelta(minutes=30), "later": timedelta(days=3), "past": timedelta(days=-1)}
ROLES = ("owner", "borrower", "neighbor", "organizer", "outsider")


class _Rollback(Exception):
    pass


def _allows(call) -> bool:
    """Whether a service call goes through now, tried inside a transaction rolled back."""
    try:
        with transaction.atomic():
            call()
            raise _Rollback
    except _Rollback:
        return True
    except RuleViolation:
        return False


def _service_allows(step: str, reservation: Reservation, user) -> bool:
    service = getattr(services, f"reservation_{step}")
    return _allows(lambda: service(reservation=Reservation.objects.get(pk=reservation.pk), actor=user))


def _page_steps(client, reservation: Reservation) -> set[str] | None:
    response = client.get(reverse("tools:loan", args=[reservation.pk]))
    if response.status_code == 404:
        return None
    assert response.status_code == 200
    found = re.findall(rf'action="/tools/loans/{reservation.pk}/([a-z_]+)/"', response.content.decode())
    return {name for name in found if name != "condition"}


def _api_actions(api, reservation: Reservation) -> list[str] | None:
    response = api.get(f"/api/v1/reservations/{reservation.pk}/")
    if response.status_code == 404:
        return None
    assert response.status_code == 200
    return response.json()["actions"]


def _loan(state: str, moment: str, *, fee: bool, people) -> Reservation:
    starts_at = timezone.now() + MOMENTS[moment]
    tool = ToolFactory(owner=people["owner"], community=people["community"], fee_per_day=Decimal("2") if fee else None)
    extra = {}
    if state in (S.PICKED_UP, S.RETURNED):
        extra["picked_up_at"] = min(starts_at, timezone.now() - timedelta(minutes=1))
    if state == S.RETURNED:
        extra["returned_at"] = timezone.now()
    return ReservationFactory(
        tool=tool,
        borrower=people["borrower"],
        starts_at=starts_at,
        status=state,
        fee_per_day=tool.fee_per_day,
        fee_total=Decimal("2") if fee else Decimal("0"),
        **extra,
    )


@pytest.fixture
def people(community, owner, member, organizer, other_community):
    return {
        "community": community,
        "owner": owner,
        "borrower": member,
        "neighbor": MembershipFactory(community=community).user,
        "organizer": organizer,
        "outsider": MembershipFactory(community=other_community).user,
    }


@pytest.mark.parametrize("fee", [False, True], ids=["free", "fee"])
@pytest.mark.parametrize("moment", list(MOMENTS))
@pytest.mark.parametrize("state", list(S.values))
def test_the_page_the_api_and_the_service_agree_on_every_loan_step(web_as, api_as, people, state, moment, fee):
    reservation = _loan(state, moment, fee=fee, people=people)
    for role in ROLES:
        user = people[role]
        page = _page_steps(web_as(user), reservation)
        api = _api_actions(api_as(user), reservation)
        service = {step for step in STEPS if _service_allows(step, reservation, user)}
        where = f"{role}, {state} loan starting {moment}, {'with' if fee else 'no'} fee"
        if role in ("owner", "borrower"):
            assert page == service, where
            assert {name for name in api if name in STEPS} == service, where
        else:  # not a party: the loan does not exist for them, and every step is refused
            assert page is None and api is None and service == set(), where


@pytest.mark.parametrize("state", list(S.values))
def test_the_condition_form_and_the_api_offer_the_same_reports(web_as, api_as, people, state):
    reservation = _loan(state, "soon", fee=False, people=people)
    if state in (S.PICKED_UP, S.RETURNED):  # the borrower has recorded the pickup: only return is left
        ConditionReport.objects.create(
            reservation=reservation, stage="pickup", author=people["borrower"], condition="good"
        )
    for role in ("owner", "borrower"):
        user = people[role]
        response = web_as(user).get(reverse("tools:loan", args=[reservation.pk]))
        form = response.context["report_form"]
        stages = {value for value, _ in form.fields["stage"].choices} if form else set()
        damage = bool(form and "damage" in form.fields)
        api = set(_api_actions(api_as(user), reservation))
        assert stages == {stage for stage, name in REPORT_ACTIONS.items() if name in api}, (role, state)
        assert damage == ("report_damage" in api), (role, state)


def test_every_step_the_api_lists_has_an_endpoint_and_the_page_a_form(api_as, web_as, people):
    """The API's enum of actions is the machine's; each step answers at its own URL."""
    reservation = _loan(S.REQUESTED, "soon", fee=False, people=people)
    owner_api = api_as(people["owner"])
    assert _api_actions(owner_api, reservation) == ["approve", "decline"]
    assert owner_api.post(f"/api/v1/reservations/{reservation.pk}/cancel/").json()["code"] == "illegal_transition"
    declined = owner_api.post(f"/api/v1/reservations/{reservation.pk}/decline/", {"note": "Away"}, format="json")
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert declined.json()["actions"] == []
    assert set(LOAN.member_actions) >= set(STEPS)


def test_a_stranger_to_the_community_never_sees_a_loan(api_as):
    reservation = ReservationFactory()
    assert _api_actions(api_as(UserFactory()), reservation) is None


# --- a place on the waitlist, and the owner's listing ---------------------------------
W = WaitlistEntry.Status
ENTRY_MOMENTS = {"open offer": timedelta(hours=3), "lapsed offer": timedelta(hours=-1)}


def _entry_service_allows(step: str, entry: WaitlistEntry, user) -> bool:
    service = services.waitlist_accept if step == "accept" else services.waitlist_withdraw
    return _allows(lambda: service(entry=WaitlistEntry.objects.get(pk=entry.pk), actor=user))


@pytest.mark.parametrize("moment", list(ENTRY_MOMENTS))
@pytest.mark.parametrize("state", list(W.values))
def test_the_waitlist_page_the_api_and_the_service_agree(web_as, api_as, people, state, moment):
    tool = ToolFactory(owner=people["owner"], community=people["community"], min_notice_hours=0)
    starts_at = timezone.now() + timedelta(days=2)
    entry = WaitlistEntry.objects.create(
        tool=tool,
        member=people["borrower"],
        starts_at=starts_at,
        ends_at=starts_at + timedelta(days=1),
        status=state,
        offer_expires_at=timezone.now() + ENTRY_MOMENTS[moment],
    )
    for role in ("borrower", "owner", "neighbor"):
        user = people[role]
        html = web_as(user).get(reverse("tools:waitlist")).content.decode()
        page = set(re.findall(rf'action="/tools/waitlist/{entry.pk}/([a-z]+)/"', html))
        response = api_as(user).get(f"/api/v1/waitlist/{entry.pk}/")
        api = set(response.json()["actions"]) if response.status_code == 200 else set()
        service = {step for step in WAITLIST.member_actions if _entry_service_allows(step, entry, user)}
        assert page == api == service, (role, state, moment)


@pytest.mark.parametrize("state", list(Tool.Status.values))
def test_the_my_tools_page_the_api_and_the_service_agree_on_the_listing(web_as, api_as, people, state):
    tool = ToolFactory(owner=people["owner"], community=people["community"], status=state)
    for role in ("owner", "neighbor"):
        user = people[role]
        html = web_as(user).get(reverse("tools:mine")).content.decode()
        page = set(re.findall(rf'(?:action|href)="/tools/{tool.pk}/(pause|resume|retire)/"', html))
        response = api_as(user).get(f"/api/v1/tools/{tool.pk}/")
        api = set(response.json()["actions"]) if response.status_code == 200 else set()
        service = {
            step
            for step in LISTING.member_actions
            if _allows(
                lambda step=step, user=user: services.tool_step(
                    tool=Tool.objects.get(pk=tool.pk), actor=user, step=step
                )
            )
        }
        assert page == api == service, (role, state)
