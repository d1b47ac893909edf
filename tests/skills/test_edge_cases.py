"""Edges found in review: settled disputes are final, suspended members can't renew,
far-off dates and duplicate slugs are clean errors, organizers' status changes."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from apps.ledger.models import Account
from apps.moderation.services import membership_suspend
from apps.peers.models import Membership
from apps.skills import services
from apps.skills.factories import OfferFactory, SeatFactory, SessionFactory, SkillFactory
from apps.skills.models import Match, Offer, Session
from p2pcommons.errors import RuleViolation

pytestmark = pytest.mark.django_db


def balances():
    return dict(Account.objects.filter(currency="HOUR").values_list("owner__email", "balance"))


@pytest.fixture
def completed_seat(community, owner, member):
    session = SessionFactory(helper=owner, community=community)
    seat = SeatFactory(session=session, learner=member)
    Session.objects.filter(pk=session.pk).update(starts_at=timezone.now() - timedelta(hours=3))
    services.session_confirm(session=session, actor=member, hours="2")
    services.session_confirm(session=session, actor=owner, hours="2")
    seat.refresh_from_db()
    return seat


def test_a_settled_dispute_is_final_and_the_hours_stay_as_settled(completed_seat, member, owner, organizer):
    services.seat_dispute(seat=completed_seat, actor=member, reason="One hour only")
    services.dispute_settle(seat=completed_seat, actor=organizer, hours="1", reason="Agreed on one")
    with pytest.raises(RuleViolation) as exc:
        services.seat_dispute(seat=completed_seat, actor=owner, reason="It was two")
    assert exc.value.code == "settled"
    with pytest.raises(RuleViolation):
        services.dispute_settle(seat=completed_seat, actor=organizer, hours="1", reason="Again")
    assert balances() == {"owner@example.org": Decimal("1.00"), "member@example.org": Decimal("-1.00")}


def test_disputes_close_two_weeks_after_the_hours_moved(completed_seat, member):
    later = timezone.now() + services.DISPUTE_WINDOW + timedelta(hours=1)
    with time_machine.travel(later), pytest.raises(RuleViolation) as exc:
        services.seat_dispute(seat=completed_seat, actor=member, reason="Late")
    assert exc.value.code == "too_late"


def test_a_suspended_member_cant_renew_an_offer_back_open(community, member, organizer, bike_repair):
    offer = OfferFactory(member=member, community=community, skills=[bike_repair], status="closed")
    membership_suspend(
        membership=Membership.objects.get(user=member, community=community), actor=organizer, reason="Spam"
    )
    with pytest.raises(RuleViolation) as exc:
        services.offer_renew(offer=offer, actor=member)
    assert exc.value.code == "suspended"
    assert Offer.objects.get().status == "closed"


def test_reopening_an_expired_offer_renews_it_and_an_expired_request_needs_new_dates(
    api_as, community, member, bike_repair
):
    from apps.skills.factories import RequestFactory

    offer = OfferFactory(
        member=member, community=community, skills=[bike_repair], status="closed", expires_at=timezone.now()
    )
    reopened = api_as(member).patch(f"/api/v1/skills/offers/{offer.pk}/", {"status": "open"}, format="json")
    assert reopened.status_code == 200
    offer.refresh_from_db()
    assert offer.status == "open" and offer.expires_at > timezone.now() + timedelta(days=170)
    request = RequestFactory(
        member=member, community=community, skills=[bike_repair], status="closed", expires_at=timezone.now()
    )
    refused = api_as(member).patch(f"/api/v1/skills/requests/{request.pk}/", {"status": "open"}, format="json")
    assert refused.status_code == 400 and "wanted_until" in refused.json()


def test_creating_with_a_status_is_fine_and_far_dates_are_400s(api_as, community, member, bike_repair):
    offered = api_as(member).post(
        "/api/v1/skills/offers/",
        {"community": community.pk, "title": "Bikes", "skills": [bike_repair.pk], "status": "closed"},
        format="json",
    )
    assert offered.status_code == 201 and offered.json()["status"] == "open"
    far = api_as(member).post(
        "/api/v1/skills/requests/",
        {
            "community": community.pk,
            "title": "Later",
            "skills": [bike_repair.pk],
            "wanted_from": "9999-12-30",
            "wanted_until": "9999-12-31",
        },
        format="json",
    )
    assert far.status_code == 400 and "wanted_from" in far.json()


def test_the_directory_copes_with_two_skills_of_one_slug(web_as, community, other_community, member, repair):
    local = SkillFactory(category=repair, slug="pottery", community=community)
    SkillFactory(category=repair, slug="pottery", community=other_community)
    response = web_as(member).get(reverse("skills:directory"), {"skill": local.pk})
    assert response.status_code == 200


def test_an_organizer_closing_an_offer_in_the_admin_drops_its_matches(web_as, community, owner, organizer, bike_repair):
    from apps.skills.factories import RequestFactory

    offer = OfferFactory(member=owner, community=community, skills=[bike_repair])
    request = RequestFactory(member=organizer, community=community, skills=[bike_repair])
    Match.objects.create(request=request, offer=offer, score="0.7", parts={}, reasons=["same skill"])
    web_as(organizer).post(reverse("admin:skills_offer_change", args=[offer.pk]), {"status": "closed"})
    offer.refresh_from_db()
    assert offer.status == "closed" and not Match.objects.exists()


def test_an_organizer_reopening_an_expired_offer_in_the_admin_is_told_why_not(
    web_as, community, owner, organizer, bike_repair
):
    offer = OfferFactory(
        member=owner, community=community, skills=[bike_repair], status="closed", expires_at=timezone.now()
    )
    response = web_as(organizer).post(
        reverse("admin:skills_offer_change", args=[offer.pk]), {"status": "open"}, follow=True
    )
    assert response.status_code == 200
    assert "only its author can renew it" in response.content.decode()
    offer.refresh_from_db()
    assert offer.status == "closed"
