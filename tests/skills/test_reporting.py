"""Members report skill offers, requests and sessions like tools; an organizer hides one
and it leaves the directory, search, matching and its page for everyone else."""

from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from apps.moderation import services as moderation
from apps.moderation.models import Flag
from apps.peers.factories import MembershipFactory
from apps.skills import services
from apps.skills.factories import SeatFactory, SessionFactory
from apps.skills.models import Match, Session
from p2pcommons.errors import RuleViolation
from tests.skills.conftest import place

pytestmark = pytest.mark.django_db

HOME = (52.37, 4.89)
DIRECTORY = reverse("skills:directory")


def next_saturday():
    today = timezone.localdate()
    return today + timedelta(days=(5 - today.weekday()) % 7 or 7)


def on_commit():
    return TestCase.captureOnCommitCallbacks(execute=True)


@pytest.fixture
def bikes(community, owner, bike_repair):
    place(owner, *HOME)
    with on_commit():
        return services.offer_create(
            member=owner,
            community=community,
            title="Bike fixing by Olive",
            skills=[bike_repair],
            windows=[(5, time(9), time(12))],
        )


def ask(asker, community, skill, title="My gears slip"):
    place(asker, *HOME)
    with on_commit():
        return services.request_create(
            member=asker,
            community=community,
            title=title,
            skills=[skill],
            wanted_from=next_saturday(),
            wanted_until=next_saturday(),
        )


def report(client, target, kind: str):
    return client.post(
        reverse("moderation:report"),
        {"target_type": kind, "target_id": target.pk, "reason": "spam", "text": "An ad", "next": "/skills/"},
        follow=True,
    )


def test_a_reported_offer_hidden_by_an_organizer_leaves_the_directory_and_matching(
    web_as, api_as, community, owner, member, organizer, bikes, bike_repair
):
    asker = MembershipFactory(community=community, user__profile__display_name="Ada Asker").user
    wanted = ask(asker, community, bike_repair)
    assert Match.objects.filter(offer=bikes, request=wanted).exists()

    page = web_as(member).get(bikes.get_absolute_url()).content.decode()
    assert "Report this skill offer" in page
    answer = report(web_as(member), bikes, "skills.offer")
    assert "your report was sent to the organizers" in answer.content.decode()
    flag = Flag.objects.get()
    assert flag.reporter == member and flag.community == community and flag.target_author == owner

    with on_commit():
        moderation.content_hide(target=bikes, actor=organizer, reason="Advertising")
    bikes.refresh_from_db()
    assert bikes.is_hidden
    assert not Match.objects.filter(offer=bikes).exists()
    member_client = web_as(member)
    assert "Bike fixing by Olive" not in member_client.get(DIRECTORY).content.decode()
    assert "Bike fixing by Olive" not in member_client.get(f"{DIRECTORY}?q=bike").content.decode()
    assert member_client.get(bikes.get_absolute_url()).status_code == 404
    assert api_as(member).get(f"/api/v1/skills/offers/{bikes.pk}/").status_code == 404
    assert api_as(member).get("/api/v1/skills/offers/").json()["results"] == []
    # New requests are not matched with it either.
    later = ask(MembershipFactory(community=community).user, community, bike_repair, title="Brakes squeak")
    assert not Match.objects.filter(request=later).exists()
    assert not Match.objects.filter(offer=bikes).exists()


def test_a_hidden_offer_stays_visible_to_its_member_and_the_organizers_with_a_note(
    web_as, api_as, community, owner, organizer, bikes
):
    moderation.content_hide(target=bikes, actor=organizer, reason="Advertising")
    owner_page = web_as(owner).get(bikes.get_absolute_url()).content.decode()
    assert "Hidden by moderation" in owner_page and "Only you and the organizers see it" in owner_page
    organizer_page = web_as(organizer).get(bikes.get_absolute_url()).content.decode()
    assert "Hidden by moderation" in organizer_page and "Bike fixing by Olive" in organizer_page
    assert api_as(organizer).get(f"/api/v1/skills/offers/{bikes.pk}/").json()["title"] == "Bike fixing by Olive"
    # The directory is the same for everyone: hidden listings are not in it.
    assert "Bike fixing by Olive" not in web_as(organizer).get(DIRECTORY).content.decode()


def test_a_restored_offer_is_matched_again(community, member, organizer, bikes, bike_repair):
    wanted = ask(member, community, bike_repair)
    with on_commit():
        moderation.content_hide(target=bikes, actor=organizer, reason="Advertising")
    assert not Match.objects.filter(offer=bikes).exists()
    with on_commit():
        moderation.content_restore(target=bikes, actor=organizer, reason="It was fine after all")
    assert Match.objects.filter(offer=bikes, request=wanted).exists()


def test_a_hidden_request_leaves_the_requests_tab_and_matching(
    web_as, community, owner, member, organizer, bikes, bike_repair
):
    wanted = ask(member, community, bike_repair, title="Gears, now, cheap tickets")
    assert "Report this skill request" in web_as(owner).get(wanted.get_absolute_url()).content.decode()
    moderation.flag_create(reporter=owner, target=wanted, reason="spam")
    with on_commit():
        moderation.content_hide(target=wanted, actor=organizer, reason="Spam")
    assert not Match.objects.filter(request=wanted).exists()
    assert "cheap tickets" not in web_as(owner).get(f"{DIRECTORY}?show=requests").content.decode()
    services.match_request(request_id=wanted.pk)
    services.match_offer(offer_id=bikes.pk)
    assert not Match.objects.filter(request=wanted).exists()
    assert web_as(owner).get(f"{reverse('skills:session-create')}?request={wanted.pk}").status_code == 404


def test_nobody_reports_their_own_listing_and_outsiders_cannot_report_it(web_as, owner, stranger, bikes):
    assert "Report this" not in web_as(owner).get(bikes.get_absolute_url()).content.decode()
    with pytest.raises(RuleViolation, match="your own skill offer"):
        moderation.flag_create(reporter=owner, target=bikes, reason="spam")
    with pytest.raises(RuleViolation, match=r"^Join Sunnyside Commons to report anything there\.$"):
        moderation.flag_create(reporter=stranger, target=bikes, reason="spam")
    assert not Flag.objects.exists()


def test_a_member_reports_a_group_session_and_once_hidden_nobody_new_can_join(
    web_as, community, owner, member, organizer
):
    group = SessionFactory(
        helper=owner,
        community=community,
        title="Repair café with free crypto",
        capacity=6,
        planned_hours=Decimal("1.00"),
    )
    page = web_as(member).get(group.get_absolute_url()).content.decode()
    assert "Report this skill session" in page
    report(web_as(member), group, "skills.session")
    assert Flag.objects.get().target_author == owner
    moderation.content_hide(target=group, actor=organizer, reason="Scam")
    neighbor = MembershipFactory(community=community).user
    assert "free crypto" not in web_as(neighbor).get(reverse("skills:sessions")).content.decode()
    assert web_as(neighbor).get(group.get_absolute_url()).status_code == 404
    with pytest.raises(RuleViolation, match="not open for joining"):
        services.seat_join(session=Session.objects.get(pk=group.pk), learner=neighbor)
    assert not group.seats.exists()
    assert "Hidden by moderation" in web_as(organizer).get(group.get_absolute_url()).content.decode()


def test_the_learner_of_a_one_to_one_session_may_report_it_and_others_may_not(community, owner, member, stranger):
    session = SessionFactory(helper=owner, community=community, starts_at=timezone.now() + timedelta(days=1))
    SeatFactory(session=session, learner=member)
    outsider = MembershipFactory(community=community).user
    with pytest.raises(RuleViolation, match="can't see"):
        moderation.flag_create(reporter=outsider, target=session, reason="harassment")
    flag = moderation.flag_create(reporter=member, target=session, reason="harassment", text="Rude messages")
    assert flag.target_author == owner and flag.community == community


def test_a_session_is_not_proposed_for_a_hidden_offer_or_request(
    community, owner, member, organizer, bikes, bike_repair
):
    from django.core.exceptions import ValidationError

    wanted = ask(member, community, bike_repair)
    moderation.content_hide(target=bikes, actor=organizer, reason="Advertising")
    moderation.content_hide(target=wanted, actor=organizer, reason="Spam")
    common = {
        "proposer": member,
        "helper": owner,
        "learner": member,
        "community": community,
        "title": "Gears",
        "starts_at": timezone.now() + timedelta(days=1),
        "planned_hours": Decimal("1"),
        "place": "Garage",
    }
    bikes.refresh_from_db()
    wanted.refresh_from_db()
    with pytest.raises(ValidationError) as offer_error:
        services.session_propose(**common, offer=bikes)
    assert offer_error.value.message_dict == {"offer": ["That offer was hidden by the organizers."]}
    with pytest.raises(ValidationError) as request_error:
        services.session_propose(**common, request=wanted)
    assert request_error.value.message_dict == {"request": ["That request was hidden by the organizers."]}
    assert not Session.objects.exists()
