"""Posting requests can't flood the neighbors: a member has at most MAX_OPEN_REQUESTS
open requests per community, a requester hears of the best few matches of a request,
and a helper of a few new matches a day; each match is still claimed once."""

from datetime import time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import TestCase
from django.utils import timezone

from apps.notifications.models import Notification
from apps.peers.factories import MembershipFactory
from apps.skills import services
from apps.skills.factories import RequestFactory
from apps.skills.models import Match, Request
from p2pcommons.errors import RuleViolation
from tests.skills.conftest import place

pytestmark = pytest.mark.django_db

HOME = (52.37, 4.89)


def neighbor(community, name, km: float = 0.0):
    user = MembershipFactory(community=community, user__profile__display_name=name).user
    place(user, HOME[0] + km / 111.195, HOME[1])
    return user


def next_saturday():
    today = timezone.localdate()
    return today + timedelta(days=(5 - today.weekday()) % 7 or 7)


def ask(asker, community, skills, title="My bike's gears slip", **kw):
    day = next_saturday()
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.request_create(
            member=asker, community=community, title=title, skills=skills, wanted_from=day, wanted_until=day, **kw
        )


def offer(member, community, skills, **kw):
    kw.setdefault("windows", [(5, time(9), time(12))])
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.offer_create(member=member, community=community, title="I fix bikes", skills=skills, **kw)


def match_notices(user) -> int:
    return Notification.objects.filter(kind="skills.match", recipient=user).count()


# --- the cap on open requests ---------------------------------------------------------------------
def test_a_member_has_at_most_five_open_requests_in_a_community(community, member, bike_repair):
    assert services.MAX_OPEN_REQUESTS == 5
    for n in range(services.MAX_OPEN_REQUESTS):
        ask(member, community, [bike_repair], title=f"Request {n}")
    with pytest.raises(RuleViolation, match="You have 5 open requests in Sunnyside Commons") as refused:
        ask(member, community, [bike_repair], title="One too many")
    assert refused.value.code == "too_many_requests"
    assert Request.objects.filter(member=member).count() == 5


def test_closed_and_expired_requests_do_not_count_towards_the_cap(community, member, bike_repair):
    for n in range(4):
        ask(member, community, [bike_repair], title=f"Request {n}")
    RequestFactory(member=member, community=community, status=Request.Status.CLOSED)
    RequestFactory(member=member, community=community, expires_at=timezone.now() - timedelta(minutes=1))
    ask(member, community, [bike_repair], title="The fifth open one")
    closed = Request.objects.filter(member=member, status=Request.Status.OPEN).first()
    services.request_update(request=closed, actor=member, status=Request.Status.CLOSED)
    assert ask(member, community, [bike_repair], title="After closing one").is_open


def test_the_cap_counts_per_community(community, other_community, member, bike_repair):
    MembershipFactory(community=other_community, user=member)
    for n in range(5):
        ask(member, community, [bike_repair], title=f"Request {n}")
    assert ask(member, other_community, [bike_repair], title="Elsewhere").community == other_community


def test_the_api_refuses_a_sixth_open_request_with_a_409_and_the_rule(api_as, community, member, bike_repair):
    for n in range(5):
        RequestFactory(member=member, community=community, title=f"Request {n}")
    day = next_saturday()
    body = {
        "community": community.pk,
        "title": "One too many",
        "skills": [bike_repair.pk],
        "wanted_from": f"{day}",
        "wanted_until": f"{day}",
    }
    response = api_as(member).post("/api/v1/skills/requests/", body, format="json")
    assert response.status_code == 409
    assert "You have 5 open requests in Sunnyside Commons" in response.json()["detail"]
    assert not Request.objects.filter(title="One too many").exists()


def test_reopening_a_closed_request_past_the_cap_is_refused_for_the_member_and_the_organizer(
    community, member, organizer, bike_repair
):
    closed = RequestFactory(member=member, community=community, status=Request.Status.CLOSED, skills=[bike_repair])
    for n in range(5):
        RequestFactory(member=member, community=community, title=f"Request {n}")
    with pytest.raises(RuleViolation, match="You have 5 open requests"):
        services.request_update(request=closed, actor=member, status=Request.Status.OPEN)
    with pytest.raises(RuleViolation, match="5 open requests"):
        services.listing_set_status_by_organizer(listing=closed, actor=organizer, status=Request.Status.OPEN)
    closed.refresh_from_db()
    assert closed.status == Request.Status.CLOSED


def test_editing_an_open_request_at_the_cap_is_fine(community, member, bike_repair):
    requests = [RequestFactory(member=member, community=community, title=f"Request {n}") for n in range(5)]
    edited = services.request_update(request=requests[0], actor=member, title="Gears and brakes")
    assert edited.title == "Gears and brakes" and edited.is_open


def test_the_browser_form_shows_the_cap(web_as, community, member, bike_repair):
    from django.urls import reverse

    for n in range(5):
        RequestFactory(member=member, community=community, title=f"Request {n}")
    day = next_saturday()
    form = {
        "community": community.pk,
        "title": "One too many",
        "skills": [bike_repair.pk],
        "tags": "",
        "wanted_from": f"{day}",
        "wanted_until": f"{day}",
        "estimated_hours": "1",
    }
    response = web_as(member).post(reverse("skills:request-create"), form)
    assert response.status_code == 200
    assert "You have 5 open requests in Sunnyside Commons" in response.content.decode()
    assert not Request.objects.filter(title="One too many").exists()


# --- bounded match notifications -------------------------------------------------------------------
def test_a_requester_hears_of_only_the_best_three_matches_of_a_request(community, bike_repair):
    asker = neighbor(community, "Ada Asker")
    helpers = [neighbor(community, f"Helper {n}", km=0.3 + n) for n in range(5)]
    for helper in helpers:
        offer(helper, community, [bike_repair], travel_km=Decimal("10"))
    request = ask(asker, community, [bike_repair])
    assert Match.objects.filter(request=request, score__gte=Decimal(str(services.NOTIFY_THRESHOLD))).count() == 5
    told = Notification.objects.filter(kind="skills.match", recipient=asker)
    assert told.count() == services.REQUESTER_MATCH_NOTICES == 3
    best = Match.objects.filter(request=request).order_by("-score", "id")[:3]
    assert sorted(n.text.split(" can help")[0] for n in told) == sorted(m.offer.member.public_name for m in best)
    # Every match is still listed, and claimed once: a rerun tells nobody again.
    assert Match.objects.filter(request=request, notified_at__isnull=False).count() == 5
    services.match_request(request_id=request.pk)
    assert told.count() == 3


def test_a_new_offer_tells_a_requester_only_while_the_request_has_notices_left(community, bike_repair):
    asker = neighbor(community, "Ada Asker")
    request = ask(asker, community, [bike_repair])
    for n in range(4):
        offer(neighbor(community, f"Helper {n}", km=0.5), community, [bike_repair])
    assert match_notices(asker) == 3
    request.refresh_from_db()
    assert request.match_notices == 3


def test_a_helper_hears_of_at_most_three_new_matches_a_day(community, bike_repair):
    helper = neighbor(community, "Hal Helper")
    offer(helper, community, [bike_repair])
    askers = [neighbor(community, f"Asker {n}", km=0.2) for n in range(5)]
    for asker in askers:
        ask(asker, community, [bike_repair])
    assert Match.objects.filter(offer__member=helper).count() == 5
    assert match_notices(helper) == services.HELPER_MATCH_NOTICES_PER_DAY == 3
    assert all(match_notices(asker) == 1 for asker in askers)  # every requester still hears of the helper
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        ask(neighbor(community, "Next-day Asker", km=0.2), community, [bike_repair])
    assert match_notices(helper) == 4


def test_five_requests_of_one_member_tell_each_helper_at_most_three_times(community, bike_repair):
    asker = neighbor(community, "Spam Asker")
    helpers = [neighbor(community, f"Helper {n}", km=0.3) for n in range(6)]
    for helper in helpers:
        offer(helper, community, [bike_repair])
    for n in range(services.MAX_OPEN_REQUESTS):
        ask(asker, community, [bike_repair], title=f"Help {n}")
    with pytest.raises(RuleViolation):
        ask(asker, community, [bike_repair], title="Help 6")
    assert Match.objects.count() == 30
    assert [match_notices(helper) for helper in helpers] == [3] * 6
    assert match_notices(asker) == 5 * 3
