"""The scoring function on fixed values: each part, and the reasons that go with it."""

from datetime import date, time
from decimal import Decimal

from apps.skills import matching
from apps.skills.matching import Side

SATURDAY = date(2026, 11, 28)


def request(**kw) -> Side:
    base = {
        "skills": frozenset({1}),
        "categories": frozenset({10}),
        "tags": frozenset(),
        "latitude": 52.0,
        "longitude": 4.0,
        "remote_ok": False,
        "wanted_from": SATURDAY,
        "wanted_until": SATURDAY,
    }
    return Side(**{**base, **kw})


def offer(**kw) -> Side:
    base = {
        "skills": frozenset({1}),
        "categories": frozenset({10}),
        "tags": frozenset(),
        "latitude": 52.0072,  # about 0.8 km north
        "longitude": 4.0,
        "remote_ok": False,
        "travel_km": 5.0,
        "windows": ((5, time(9), time(12)),),  # Saturday morning
    }
    return Side(**{**base, **kw})


def test_the_exact_skill_nearby_and_free_is_a_strong_match_with_its_reasons():
    s = matching.score(request(), offer())
    assert s.parts["skill"] == 1.0 and s.parts["availability"] == 1.0
    assert 0.83 < s.parts["distance"] < 0.85
    assert s.reasons == ["same skill", "0.8 km", "can help Saturday morning"]
    expected = 0.45 + 0.20 * s.parts["distance"] + 0.15 + 0.10 * 0.5 + 0
    assert abs(s.total - expected) < 1e-4


def test_the_exact_skill_nearby_ranks_above_the_same_category_far_away():
    near = matching.score(request(), offer())
    far_related = matching.score(
        request(),
        offer(skills=frozenset({2}), latitude=52.036, travel_km=10.0),  # about 4 km
    )
    assert far_related.is_match and far_related.parts["skill"] == matching.SAME_CATEGORY
    assert "related skill" in far_related.reasons
    assert near.total > far_related.total


def test_a_helper_outside_their_travel_radius_is_no_match_unless_both_allow_remote():
    far = offer(latitude=52.2, travel_km=5.0)  # about 22 km
    assert not matching.score(request(), far).is_match
    assert not matching.score(request(remote_ok=True), far).is_match  # the helper doesn't do remote
    remote = matching.score(request(remote_ok=True), offer(latitude=52.2, remote_ok=True))
    assert remote.is_match and remote.parts["distance"] == 1.0 and "remote" in remote.reasons


def test_no_location_means_no_match_unless_remote():
    assert not matching.score(request(latitude=None, longitude=None), offer()).is_match
    assert matching.score(request(latitude=None, longitude=None, remote_ok=True), offer(remote_ok=True)).is_match


def test_no_shared_skill_category_or_tag_is_no_match_and_a_tag_counts_a_little():
    unrelated = offer(skills=frozenset({7}), categories=frozenset({70}))
    assert not matching.score(request(), unrelated).is_match
    tagged = matching.score(
        request(tags=frozenset({3})), offer(skills=frozenset({7}), categories=frozenset({70}), tags=frozenset({3}))
    )
    assert tagged.parts["skill"] == matching.TAG_ONLY and "shared tag" in tagged.reasons


def test_availability_counts_only_a_window_on_a_wanted_day():
    weekday_only = offer(windows=((0, time(18), time(20)),))  # Monday evening
    assert matching.score(request(), weekday_only).parts["availability"] == 0
    week = request(wanted_until=date(2026, 12, 4))
    s = matching.score(week, weekday_only)
    assert s.parts["availability"] == 1.0 and "can help Monday evening" in s.reasons


def test_reputation_and_reciprocity_lift_the_score_with_their_reasons():
    plain = matching.score(request(), offer())
    trusted = matching.score(request(balance=Decimal("5")), offer(trust=Decimal("4.8"), balance=Decimal("-5")))
    assert trusted.parts["reputation"] == 0.95 and trusted.parts["reciprocity"] == 1.0
    assert "trusted (4.8)" in trusted.reasons
    assert "helper wants to earn hours" in trusted.reasons and "requester has helped others" in trusted.reasons
    assert trusted.total > plain.total


def test_the_total_is_the_weighted_sum_of_the_parts():
    s = matching.score(request(balance=Decimal("2")), offer(trust=Decimal("3.0"), balance=Decimal("-1")))
    assert abs(s.total - sum(matching.WEIGHTS[k] * v for k, v in s.parts.items())) < 1e-3
    assert abs(sum(matching.WEIGHTS.values()) - 1.0) < 1e-9
