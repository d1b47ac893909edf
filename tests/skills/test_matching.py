"""Matching in the database: who is matched, in what order, told once, from a bounded candidate set."""

from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.notifications.models import Notification
from apps.peers.factories import MembershipFactory
from apps.skills import services
from apps.skills.models import Match
from apps.skills.tasks import match_offer, match_request, nightly_matching
from tests.skills.conftest import place

pytestmark = pytest.mark.django_db

HOME = (52.37, 4.89)


def neighbor(community, name, lat_offset_km: float = 0.0, lng=HOME[1]):
    user = MembershipFactory(community=community, user__profile__display_name=name).user
    place(user, HOME[0] + lat_offset_km / 111.195, lng)
    return user


def next_saturday():
    today = timezone.localdate()
    return today + timedelta(days=(5 - today.weekday()) % 7 or 7)


@pytest.fixture
def asker(community):
    return neighbor(community, "Ada Asker")


def after_commit():
    """Run what the services enqueue on commit (the test's transaction never commits)."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def ask(asker, community, skills, **kw):
    day = next_saturday()
    with after_commit():
        return services.request_create(
            member=asker,
            community=community,
            title="My bike's gears slip",
            skills=skills,
            wanted_from=day,
            wanted_until=day,
            **kw,
        )


def offer(member, community, skills, **kw):
    kw.setdefault("windows", [(5, time(9), time(12))])
    with after_commit():
        return services.offer_create(member=member, community=community, title="I fix things", skills=skills, **kw)


def test_the_exact_skill_nearby_available_helper_ranks_first(community, asker, bike_repair, furniture_repair):
    near = offer(neighbor(community, "Ned Near", 0.8), community, [bike_repair])
    far = offer(neighbor(community, "Fay Far", 8.0), community, [furniture_repair], travel_km=Decimal("10"))
    request = ask(asker, community, [bike_repair])
    ranked = list(Match.objects.filter(request=request).order_by("-score"))
    assert [m.offer for m in ranked] == [near, far]
    assert ranked[0].reasons[:3] == ["same skill", "0.8 km", "can help Saturday morning"]
    assert ranked[1].reasons[0] == "related skill"


def test_a_helper_outside_their_radius_is_matched_only_when_both_allow_remote(community, asker, bike_repair):
    offer(neighbor(community, "Fay Far", 20.0), community, [bike_repair], travel_km=Decimal("5"))
    request = ask(asker, community, [bike_repair])
    assert not Match.objects.filter(request=request).exists()
    remote_helper = offer(neighbor(community, "Rae Remote", 20.0), community, [bike_repair], remote_ok=True)
    remote_request = ask(asker, community, [bike_repair], remote_ok=True)
    assert [m.offer for m in Match.objects.filter(request=remote_request)] == [remote_helper]
    assert "remote" in Match.objects.get(request=remote_request).reasons


def test_stored_reasons_match_the_score_parts(community, asker, bike_repair):
    helper = neighbor(community, "Ned Near", 0.8)
    offer(helper, community, [bike_repair])
    match = Match.objects.get(request=ask(asker, community, [bike_repair]))
    parts = match.parts
    assert parts["skill"] == 1.0 and "same skill" in match.reasons
    assert parts["availability"] == 1.0 and any(r.startswith("can help Saturday") for r in match.reasons)
    assert 0 < parts["distance"] < 1 and "0.8 km" in match.reasons
    assert parts["reputation"] == 0.5 and not any(r.startswith("trusted") for r in match.reasons)
    assert parts["reciprocity"] == 0 and not any("hours" in r or "helped" in r for r in match.reasons)
    total = sum(
        {"skill": 0.45, "distance": 0.2, "availability": 0.15, "reputation": 0.1, "reciprocity": 0.1}[k] * v
        for k, v in parts.items()
    )
    assert abs(float(match.score) - total) < 1e-3


def test_matching_twice_creates_no_duplicate_matches_or_notifications(community, asker, bike_repair):
    helper = neighbor(community, "Ned Near", 0.5)
    listed = offer(helper, community, [bike_repair])
    request = ask(asker, community, [bike_repair])

    def told():
        return Notification.objects.filter(kind="skills.match").count()

    assert Match.objects.count() == 1 and told() == 2  # the requester and the helper, once each
    match_request.delay(request.pk).get()
    match_request.delay(request.pk).get()
    match_offer.delay(listed.pk).get()
    nightly_matching.delay().get()
    assert Match.objects.count() == 1 and told() == 2
    texts = sorted(Notification.objects.filter(kind="skills.match").values_list("recipient__email", "text"))
    assert texts[0][0] != texts[1][0]
    assert all("same skill" in text for _, text in texts)


def test_a_weak_match_is_stored_but_nobody_is_told(community, asker, baking, bike_repair):
    offer(neighbor(community, "Tia Tag", 0.5), community, [baking], tags=["bikes"], windows=[], travel_km=Decimal("5"))
    request = ask(asker, community, [bike_repair], tags=["Bikes"])
    match = Match.objects.get(request=request)
    assert services.STORE_THRESHOLD <= float(match.score) < services.NOTIFY_THRESHOLD
    assert match.reasons[0] == "shared tag"
    assert not Notification.objects.filter(kind="skills.match").exists()


def test_a_new_offer_finds_waiting_requests_and_closing_it_drops_its_matches(community, asker, bike_repair):
    request = ask(asker, community, [bike_repair])
    assert not Match.objects.exists()
    helper = neighbor(community, "Ned Near", 1.0)
    listed = offer(helper, community, [bike_repair])
    assert list(Match.objects.values_list("request", "offer")) == [(request.pk, listed.pk)]
    with after_commit():
        services.offer_update(offer=listed, actor=helper, status="closed")
    assert not Match.objects.exists()


def test_other_communities_and_own_offers_are_never_candidates(community, other_community, asker, bike_repair):
    outsider = MembershipFactory(community=other_community).user
    place(outsider, *HOME)
    offer(outsider, other_community, [bike_repair])
    offer(asker, community, [bike_repair])
    assert not Match.objects.filter(request=ask(asker, community, [bike_repair])).exists()


def test_matching_one_request_reads_a_bounded_candidate_set(community, asker, bike_repair, baking):
    """Offers far away or of unrelated skills are filtered out by the query, and the
    queries don't grow with the number of candidates."""
    for i in range(6):
        offer(neighbor(community, f"Far {i}", 200.0 + i), community, [bike_repair])
        offer(neighbor(community, f"Baker {i}", 0.5), community, [baking])
    request = ask(asker, community, [bike_repair])
    _, side = services._sides(type(request), [request.pk], community.pk)[request.pk]
    assert services.candidate_offers(request, side, now=timezone.now()) == []

    def queries_for_matching():
        with CaptureQueriesContext(connection) as ctx:
            services.match_request(request_id=request.pk)
        return len(ctx)

    offer(neighbor(community, "Near 0", 0.5), community, [bike_repair])
    few = queries_for_matching()
    for i in range(1, 15):
        offer(neighbor(community, f"Near {i}", 0.5 + i / 10), community, [bike_repair])
    assert Match.objects.filter(request=request).count() == services.TOP_MATCHES
    assert queries_for_matching() <= few + 2  # a bulk update of changed scores at most
