"""Organizers in the admin: their community's skills, listings and sessions; settling disputes."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.ledger.models import Account
from apps.peers.factories import MembershipFactory
from apps.skills.factories import OfferFactory, SeatFactory, SessionFactory
from apps.skills.models import Offer, Seat, Skill

pytestmark = pytest.mark.django_db


def test_an_organizer_adds_a_skill_for_their_community_only(web_as, organizer, community, other_community, repair):
    client = web_as(organizer)
    url = reverse("admin:skills_skill_add")
    page = client.get(url).content.decode()
    assert other_community.name not in page
    blank = client.post(url, {"category": repair.pk, "name": "Scythe sharpening", "slug": "scythe", "is_active": "on"})
    assert blank.status_code == 200 and not Skill.objects.filter(slug="scythe").exists()  # a community is required
    client.post(
        url,
        {
            "category": repair.pk,
            "community": community.pk,
            "name": "Scythe sharpening",
            "slug": "scythe",
            "is_active": "on",
        },
    )
    assert Skill.objects.get(slug="scythe").community == community
    smuggled = client.post(
        url,
        {"category": repair.pk, "community": other_community.pk, "name": "X", "slug": "x", "is_active": "on"},
    )
    assert smuggled.status_code == 200 and not Skill.objects.filter(slug="x").exists()


def test_an_organizer_sees_only_their_communitys_listings_and_may_only_close_them(
    web_as, organizer, community, other_community, owner, bike_repair
):
    outsider = MembershipFactory(community=other_community).user
    mine = OfferFactory(member=owner, community=community, title="Sunnyside bikes", skills=[bike_repair])
    OfferFactory(member=outsider, community=other_community, title="Riverside bikes", skills=[bike_repair])
    client = web_as(organizer)
    page = client.get(reverse("admin:skills_offer_changelist")).content.decode()
    assert "Sunnyside bikes" in page and "Riverside bikes" not in page
    client.post(reverse("admin:skills_offer_change", args=[mine.pk]), {"status": "closed", "title": "Hacked"})
    mine.refresh_from_db()
    assert (mine.status, mine.title) == ("closed", "Sunnyside bikes")
    assert Offer.objects.filter(status="open").count() == 1


def test_an_organizer_settles_a_dispute_with_a_reversing_transfer(web_as, organizer, community, owner, member):
    from apps.skills import services

    session = SessionFactory(helper=owner, community=community, starts_at=timezone.now() + timedelta(hours=1))
    seat = SeatFactory(session=session, learner=member)
    type(session).objects.filter(pk=session.pk).update(starts_at=timezone.now() - timedelta(hours=2))
    services.session_confirm(session=session, actor=member, hours="2")
    services.session_confirm(session=session, actor=owner, hours="2")
    services.seat_dispute(seat=seat, actor=member, reason="Only one hour really")
    url = reverse("admin:skills_seat_changelist")
    client = web_as(organizer)
    form = client.post(url, {"action": "settle_disputes", "_selected_action": [seat.pk]})
    assert form.status_code == 200 and b"hours" in form.content
    client.post(
        url,
        {"action": "settle_disputes", "_selected_action": [seat.pk], "apply": "1", "hours": "1", "reason": "Agreed"},
    )
    seat.refresh_from_db()
    assert seat.status == "completed" and seat.hours == Decimal("1.00")
    balances = dict(Account.objects.filter(currency="HOUR").values_list("owner", "balance"))
    assert balances == {owner.pk: Decimal("1.00"), member.pk: Decimal("-1.00")}
    assert Seat.objects.count() == 1
