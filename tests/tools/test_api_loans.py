"""The API of loans beyond the basics: who may make each transition, photos, condition
reports, the waitlist and the owner's auto-approve settings."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.moderation.models import Flag
from apps.tools.factories import ReservationFactory
from apps.tools.models import ConditionReport, Reservation, Tool, ToolPhoto, WaitlistEntry
from tests.tools.images import png_upload

pytestmark = pytest.mark.django_db
TOOLS = "/api/v1/tools/"
RES = "/api/v1/reservations/"
WAIT = "/api/v1/waitlist/"

STATE_BEFORE = {
    "approve": "requested",
    "decline": "requested",
    "cancel": "approved",
    "pickup": "approved",
    "return": "picked_up",
}
STATE_AFTER = {
    "approve": "approved",
    "decline": "declined",
    "cancel": "cancelled",
    "pickup": "picked_up",
    "return": "returned",
}


def at(days: float):
    return timezone.now().replace(microsecond=0) + timedelta(days=2 + days)


@pytest.mark.parametrize(
    ("action", "outcomes"),
    [
        # owner, borrower, stranger (same community, not a party), organizer (not a party)
        ("approve", {"owner": 200, "borrower": 409, "stranger": 404, "organizer": 404}),
        ("decline", {"owner": 200, "borrower": 409, "stranger": 404, "organizer": 404}),
        ("cancel", {"owner": 200, "borrower": 200, "stranger": 404, "organizer": 404}),
        ("pickup", {"owner": 200, "borrower": 200, "stranger": 404, "organizer": 404}),
        ("return", {"owner": 200, "borrower": 409, "stranger": 404, "organizer": 404}),
    ],
)
def test_who_may_make_each_transition_in_the_api(api_as, tool, owner, member, organizer, community, action, outcomes):
    from apps.peers.factories import MembershipFactory

    neighbor = MembershipFactory(community=community).user  # a member who is no party to the loan
    people = {"owner": owner, "borrower": member, "stranger": neighbor, "organizer": organizer}
    now = timezone.now()
    for i, (who, expected) in enumerate(outcomes.items()):
        # Windows around now, three hours apart: each pickup window is open, each pickup in the past.
        start = now - timedelta(hours=9 - 3 * i)
        loan = ReservationFactory(
            tool=tool,
            borrower=member,
            status=STATE_BEFORE[action],
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            picked_up_at=start if STATE_BEFORE[action] == "picked_up" else None,
        )
        response = api_as(people[who]).post(f"{RES}{loan.pk}/{action}/")
        assert response.status_code == expected, (who, response.content)
        loan.refresh_from_db()
        if expected == 200:
            assert loan.status == STATE_AFTER[action] and response.json()["status"] == STATE_AFTER[action]
        else:
            assert loan.status == STATE_BEFORE[action] and not loan.events.exists(), who


def test_the_owner_uploads_and_removes_photos(api_as, tool, owner, member):
    response = api_as(owner).post(
        f"{TOOLS}{tool.pk}/photos/", {"image": png_upload(), "alt_text": "Side view"}, format="multipart"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["alt_text"] == "Side view" and body["thumbnail"].endswith(".jpg")
    listed = api_as(member).get(f"{TOOLS}{tool.pk}/").json()
    assert [p["id"] for p in listed["photos"]] == [body["id"]]
    # A neighbor can neither add nor remove; a text file is a 400.
    assert (
        api_as(member).post(f"{TOOLS}{tool.pk}/photos/", {"image": png_upload()}, format="multipart").status_code == 404
    )
    assert api_as(member).delete(f"{TOOLS}{tool.pk}/photos/{body['id']}/").status_code == 404
    text = SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain")
    bad = api_as(owner).post(f"{TOOLS}{tool.pk}/photos/", {"image": text}, format="multipart")
    assert bad.status_code == 400 and "image" in bad.json()
    assert api_as(owner).delete(f"{TOOLS}{tool.pk}/photos/{body['id']}/").status_code == 204
    assert api_as(owner).delete(f"{TOOLS}{tool.pk}/photos/{body['id']}/").status_code == 404
    assert not ToolPhoto.objects.exists()


def test_condition_reports_and_damage_in_the_api(api_as, tool, owner, member, organizer):
    loan = ReservationFactory(tool=tool, borrower=member, status="picked_up", starts_at=at(0), ends_at=at(1))
    ok = api_as(member).post(
        f"{RES}{loan.pk}/condition/", {"stage": "pickup", "condition": "good", "note": "All there"}, format="multipart"
    )
    assert ok.status_code == 201, ok.content
    again = api_as(member).post(
        f"{RES}{loan.pk}/condition/", {"stage": "pickup", "condition": "good"}, format="multipart"
    )
    assert again.status_code == 409 and again.json()["code"] == "already_reported"
    bad = api_as(member).post(f"{RES}{loan.pk}/condition/", {"stage": "later", "condition": "good"}, format="multipart")
    assert bad.status_code == 400 and "stage" in bad.json()
    assert (
        api_as(organizer).post(f"{RES}{loan.pk}/condition/", {"stage": "return", "condition": "good"}).status_code
        == 404
    )
    damage = api_as(owner).post(
        f"{RES}{loan.pk}/condition/",
        {"stage": "return", "condition": "worn", "damage": "true", "note": "Cracked case", "photo": png_upload()},
        format="multipart",
    )
    assert damage.status_code == 201, damage.content
    assert damage.json()["condition"] == "damaged" and damage.json()["photo"]
    assert Flag.objects.get().target_author == member
    reports = api_as(member).get(f"{RES}{loan.pk}/").json()["condition_reports"]
    assert [r["stage"] for r in reports] == ["pickup", "return"]
    assert ConditionReport.objects.count() == 2


def test_the_waitlist_in_the_api(api_as, tool, owner, member, organizer):
    taken = ReservationFactory(tool=tool, borrower=member, starts_at=at(0), ends_at=at(1))
    body = {"tool": tool.pk, "starts_at": at(0).isoformat(), "ends_at": at(1).isoformat()}
    joined = api_as(organizer).post(WAIT, body, format="json")
    assert joined.status_code == 201 and joined.json()["status"] == "waiting"
    assert api_as(organizer).post(WAIT, body, format="json").status_code == 409  # once per tool
    assert api_as(member).get(WAIT).json()["count"] == 0  # only my own entries
    eid = joined.json()["id"]
    assert api_as(organizer).post(f"{WAIT}{eid}/accept/").status_code == 409  # nothing offered yet
    assert api_as(member).post(f"{RES}{taken.pk}/cancel/").status_code == 200
    assert api_as(organizer).get(f"{WAIT}{eid}/").json()["status"] == "offered"
    assert api_as(member).post(f"{WAIT}{eid}/accept/").status_code == 404
    booked = api_as(organizer).post(f"{WAIT}{eid}/accept/")
    assert booked.status_code == 201 and booked.json()["status"] == "requested"
    assert WaitlistEntry.objects.get().status == "booked"
    assert Reservation.objects.filter(borrower=organizer, status="requested").count() == 1


def test_the_waitlist_refuses_free_windows_and_bad_input(api_as, tool, member):
    body = {"tool": tool.pk, "starts_at": at(0).isoformat(), "ends_at": at(1).isoformat()}
    free = api_as(member).post(WAIT, body, format="json")
    assert free.status_code == 409 and free.json()["code"] == "window_free"
    bad = api_as(member).post(WAIT, {**body, "ends_at": "soon"}, format="json")
    assert bad.status_code == 400 and "ends_at" in bad.json()


def test_auto_approve_settings_are_validated(api_as, tool, owner):
    url = f"{TOOLS}{tool.pk}/"
    ok = api_as(owner).patch(url, {"auto_approve": True, "auto_approve_min_score": "4.5"}, format="json")
    assert ok.status_code == 200 and ok.json()["auto_approve"] is True
    bad = api_as(owner).patch(url, {"auto_approve_min_score": "7"}, format="json")
    assert bad.status_code == 400 and "auto_approve_min_score" in bad.json()
    moved = api_as(owner).patch(url, {"max_loan_days": 0}, format="json")
    assert moved.status_code == 400 and "max_loan_days" in moved.json()
    tool.refresh_from_db()
    assert tool.auto_approve_min_score == 4.5 and tool.max_loan_days == 7


def test_a_hidden_listing_is_gone_for_neighbors_but_not_its_owner(api_as, tool, owner, member):
    Tool.objects.filter(pk=tool.pk).update(is_hidden=True)
    assert api_as(member).get(f"{TOOLS}{tool.pk}/").status_code == 404
    assert api_as(member).get(TOOLS).json()["count"] == 0
    assert api_as(owner).get(f"{TOOLS}{tool.pk}/").status_code == 200


def test_the_waitlist_list_query_count_does_not_grow(api_as, tool, member, community):
    from apps.peers.factories import MembershipFactory
    from apps.tools.factories import ToolFactory
    from tests.querycount import assert_queries_do_not_grow

    client = api_as(member)

    def add(n):
        for _ in range(n):
            other = ToolFactory(owner=MembershipFactory(community=community).user, community=community)
            WaitlistEntry.objects.create(tool=other, member=member, starts_at=at(0), ends_at=at(1))

    # count(*), one page of entries with their tools.
    assert assert_queries_do_not_grow(lambda: client.get(WAIT), add) == 2
