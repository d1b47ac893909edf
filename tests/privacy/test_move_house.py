"""Move house: a member uploads their data download (the zip "Download my data" gives)
and their public profile, tools and skill offers and requests are listed again in a
community they choose, through the exchanges' own services; balances and reviews stay.
A bad file changes nothing, the same file twice creates nothing new, and whatever the
file says is untrusted."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from apps.ledger.models import Currency, Entry, Transfer
from apps.ledger.services import account_for, transfer_create
from apps.peers.factories import MembershipFactory, UserFactory
from apps.peers.models import Membership
from apps.privacy import export
from apps.privacy import move_house as move_module
from apps.privacy.export import export_build, export_request
from apps.privacy.models import ExportJob, MovedItem
from apps.privacy.move_house import MoveReport, move_house
from apps.reputation.factories import ReviewFactory
from apps.reputation.models import Review
from apps.skills.factories import OfferFactory, RequestFactory, SkillFactory
from apps.skills.models import Offer, Request
from apps.tools.factories import CategoryFactory, ReservationFactory, ToolFactory
from apps.tools.models import Reservation, Tool
from p2pcommons.errors import RuleViolation
from tests.concurrency import run_together


class Mover:
    def __init__(self, user, zip_bytes: bytes, tool, free_tool, offer, request):
        self.user = user
        self.zip = zip_bytes
        self.tool = tool
        self.free_tool = free_tool
        self.offer = offer
        self.request = request


@pytest.fixture
def mover(community, other_community, settings, tmp_path) -> Mover:
    """Mia, active in Sunnyside (where her listings are) and in Riverside (where she
    moves them), with two tools, an offer and a request of help, a transfer and a
    review; and the zip of her data download."""
    settings.EXPORT_ROOT = tmp_path / "exports"
    user = MembershipFactory(
        community=community,
        user__email="mia@example.org",
        user__profile__display_name="Mia Mover",
        user__profile__bio="I fix bikes.",
        user__profile__neighborhood="Old Harbour",
    ).user
    MembershipFactory(community=other_community, user=user)
    power = CategoryFactory(name="Power tools", slug="power-tools")
    garden = CategoryFactory(name="Garden", slug="garden")
    tool = ToolFactory(
        owner=user,
        community=community,
        category=power,
        title="Cordless drill",
        description="18 V, two batteries.\n\nA case of bits.",
        fee_per_day=Decimal("2.00"),
        condition=Tool.Condition.WORN,
        usage_rules="Clean it after use.",
        max_loan_days=5,
    )
    free_tool = ToolFactory(owner=user, community=community, category=garden, title="Rake")
    bikes = SkillFactory(slug="bike-repair", name="Bike repair")
    cooking = SkillFactory(slug="cooking", name="Cooking")
    offer = OfferFactory(member=user, community=community, title="Bike repairs", remote_ok=True, skills=[bikes])
    request = RequestFactory(
        member=user,
        community=community,
        title="Help with a birthday dinner",
        estimated_hours=Decimal("3.00"),
        skills=[cooking],
    )
    other = MembershipFactory(community=community, user__profile__display_name="Otto Other").user
    transfer_create(
        source=account_for(user=user, community=community, currency=Currency.HOUR),
        target=account_for(user=other, community=community, currency=Currency.HOUR),
        amount="2.00",
        idempotency_key="move-t1",
        memo="Bike repair",
    )
    now = timezone.now()
    loan = ReservationFactory(
        tool=tool,
        borrower=other,
        status=Reservation.Status.RETURNED,
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(days=2),
        blocked_until=now - timedelta(days=2),
        returned_at=now - timedelta(days=2),
    )
    ReviewFactory(exchange=loan, author=user, comment="Careful borrower")
    job = export_request(user=user)
    export_build(job.pk)  # built here, or already by the eager task when commits are real
    job.refresh_from_db()
    assert job.status == ExportJob.Status.READY
    return Mover(user, export.export_path(job).read_bytes(), tool, free_tool, offer, request)


def upload(data: bytes, name: str = "p2pcommons-my-data.zip") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/zip")


def rezip(data: bytes, **replace: object) -> bytes:
    """The zip with some files replaced (``outbox=dict`` for outbox.json, ``actor=...``,
    or a raw ``bytes`` value), or removed (``None``)."""
    names = {"outbox": "outbox.json", "actor": "actor.json"}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            key = next((k for k, v in names.items() if v == info.filename), None)
            if key in replace:
                value = replace[key]
                if value is None:
                    continue
                target.writestr(info.filename, value if isinstance(value, bytes) else json.dumps(value))
            else:
                target.writestr(info, source.read(info))
    return out.getvalue()


def outbox_of(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return json.loads(archive.read("outbox.json"))


def listings_of(user, community) -> tuple[int, int, int]:
    return (
        Tool.objects.filter(owner=user, community=community).count(),
        Offer.objects.filter(member=user, community=community).count(),
        Request.objects.filter(member=user, community=community).count(),
    )


def test_moving_house_lists_the_tools_and_skills_again_in_the_chosen_community(mover, other_community):
    report = move_house(user=mover.user, community=other_community, upload=upload(mover.zip), paused=True)
    assert report.created == {"tool": 2, "skill_offer": 1, "skill_request": 1} and report.left_out == []
    drill = Tool.objects.get(owner=mover.user, community=other_community, title="Cordless drill")
    assert drill.pk != mover.tool.pk and drill.status == Tool.Status.PAUSED
    assert drill.description == "18 V, two batteries.\n\nA case of bits."
    assert drill.category.name == "Power tools" and drill.fee_per_day == Decimal("2.00")
    assert drill.condition == Tool.Condition.WORN and drill.usage_rules == "Clean it after use."
    assert drill.max_loan_days == 5
    rake = Tool.objects.get(owner=mover.user, community=other_community, title="Rake")
    assert rake.fee_per_day is None
    offer = Offer.objects.get(member=mover.user, community=other_community)
    assert offer.title == "Bike repairs" and offer.remote_ok is True
    assert [s.name for s in offer.skills.all()] == ["Bike repair"]
    request = Request.objects.get(member=mover.user, community=other_community)
    assert (request.wanted_from, request.wanted_until) == (mover.request.wanted_from, mover.request.wanted_until)
    assert request.estimated_hours == Decimal("3.00") and [s.name for s in request.skills.all()] == ["Cooking"]
    # the originals stay where they were
    assert listings_of(mover.user, mover.tool.community) == (2, 1, 1)
    assert MovedItem.objects.filter(user=mover.user, community=other_community).count() == 4


def test_importing_the_same_file_twice_creates_nothing_new_the_second_time(mover, other_community):
    move_house(user=mover.user, community=other_community, upload=upload(mover.zip))
    before = listings_of(mover.user, other_community)
    again = move_house(user=mover.user, community=other_community, upload=upload(mover.zip))
    assert again.created == {} and again.already == 4
    assert listings_of(mover.user, other_community) == before == (2, 1, 1)


def test_tools_are_listed_available_at_once_when_the_owner_chooses(mover, other_community):
    move_house(user=mover.user, community=other_community, upload=upload(mover.zip), paused=False)
    statuses = set(Tool.objects.filter(owner=mover.user, community=other_community).values_list("status", flat=True))
    assert statuses == {Tool.Status.ACTIVE}


def test_a_new_account_takes_the_public_profile_from_the_file_only_when_asked(mover, other_community):
    newcomer = MembershipFactory(community=other_community, user__profile__display_name="Neighbor K7Q2P").user
    private = (newcomer.profile.exact_address, newcomer.profile.phone)
    move_house(user=newcomer, community=other_community, upload=upload(mover.zip), profile=False)
    newcomer.profile.refresh_from_db()
    assert newcomer.profile.display_name == "Neighbor K7Q2P"
    report = move_house(user=newcomer, community=other_community, upload=upload(mover.zip), profile=True)
    newcomer.profile.refresh_from_db()
    assert report.profile_updated
    assert (newcomer.profile.display_name, newcomer.profile.bio, newcomer.profile.neighborhood) == (
        "Mia Mover",
        "I fix bikes.",
        "Old Harbour",
    )
    assert (newcomer.profile.exact_address, newcomer.profile.phone) == private  # private fields never move
    assert listings_of(newcomer, other_community) == (2, 1, 1)


def test_balances_and_reviews_do_not_move(mover, other_community):
    counts = (Transfer.objects.count(), Entry.objects.count(), Review.objects.count())
    move_house(user=mover.user, community=other_community, upload=upload(mover.zip))
    assert (Transfer.objects.count(), Entry.objects.count(), Review.objects.count()) == counts
    assert not Entry.objects.filter(community=other_community).exists()


def test_someone_who_is_not_an_active_member_there_is_refused_and_nothing_is_written(mover, other_community):
    Membership.objects.filter(user=mover.user, community=other_community).update(status=Membership.Status.SUSPENDED)
    with pytest.raises(RuleViolation):
        move_house(user=mover.user, community=other_community, upload=upload(mover.zip))
    stranger = UserFactory()
    with pytest.raises(RuleViolation):
        move_house(user=stranger, community=other_community, upload=upload(mover.zip), profile=True)
    assert listings_of(mover.user, other_community) == (0, 0, 0) and listings_of(stranger, other_community) == (0, 0, 0)
    stranger.profile.refresh_from_db()
    assert stranger.profile.display_name != "Mia Mover"
    assert not MovedItem.objects.exists()


def test_a_listing_the_community_cannot_take_is_left_out_with_why_and_the_rest_moves(mover, other_community):
    outbox = outbox_of(mover.zip)
    drill = next(i for i in outbox["orderedItems"] if i.get("name") == "Cordless drill")
    drill["publishes"]["resourceClassifiedAs"] = "Spaceships"
    report = move_house(user=mover.user, community=other_community, upload=upload(rezip(mover.zip, outbox=outbox)))
    assert report.created == {"tool": 1, "skill_offer": 1, "skill_request": 1}
    assert report.left_out == [("Cordless drill", "There is no tool category called “Spaceships” here.")]
    assert not Tool.objects.filter(community=other_community, title="Cordless drill").exists()
    # once the category exists, the same file moves the tool it left out, and nothing twice
    CategoryFactory(name="Spaceships", slug="spaceships")
    again = move_house(user=mover.user, community=other_community, upload=upload(rezip(mover.zip, outbox=outbox)))
    assert again.created == {"tool": 1} and again.already == 3


def test_a_request_whose_days_have_passed_is_left_out(mover, other_community):
    outbox = outbox_of(mover.zip)
    wanted = next(i for i in outbox["orderedItems"] if i.get("purpose") == "request")
    wanted["wantedFrom"], wanted["wantedUntil"] = "2020-01-01", "2020-01-02"
    report = move_house(user=mover.user, community=other_community, upload=upload(rezip(mover.zip, outbox=outbox)))
    assert [name for name, _ in report.left_out] == ["Help with a birthday dinner"]
    assert listings_of(mover.user, other_community) == (2, 1, 0)


def test_html_in_the_file_is_stripped_from_what_is_listed(mover, other_community):
    outbox = outbox_of(mover.zip)
    drill = next(i for i in outbox["orderedItems"] if i.get("name") == "Cordless drill")
    drill["name"] = 'Drill<script>alert("x")</script><img src=x onerror=alert(1)>'
    drill["content"] = '<p>Good <a href="javascript:alert(1)">drill</a></p><iframe src="https://evil.example"></iframe>'
    move_house(user=mover.user, community=other_community, upload=upload(rezip(mover.zip, outbox=outbox)))
    tool = Tool.objects.get(community=other_community, category__name="Power tools")
    assert tool.title == "Drill" and tool.description == "Good drill"


def assert_refused_and_nothing_written(mover, other_community, data: bytes) -> ValidationError:
    with pytest.raises(ValidationError) as refused:
        move_house(user=mover.user, community=other_community, upload=upload(data), profile=True)
    assert listings_of(mover.user, other_community) == (0, 0, 0)
    assert not MovedItem.objects.exists()
    assert "file" in refused.value.message_dict
    return refused.value


def test_a_file_that_is_not_a_data_download_is_refused(mover, other_community):
    for data in (b"not a zip at all", b"PK\x03\x04broken", rezip(mover.zip, outbox=None), rezip(mover.zip, actor=None)):
        error = assert_refused_and_nothing_written(mover, other_community, data)
        assert "not a data download" in error.message_dict["file"][0]


def test_a_file_with_json_that_is_not_json_or_nests_without_end_is_refused(mover, other_community):
    for raw in (b"{not json", b"[" * 100000 + b"]" * 100000, b'"just a string"', b"\xff\xfe"):
        assert_refused_and_nothing_written(mover, other_community, rezip(mover.zip, outbox=raw))


def test_a_file_that_names_a_context_we_do_not_hold_is_refused_without_fetching_it(mover, other_community):
    outbox = outbox_of(mover.zip)
    outbox["@context"] = ["https://www.w3.org/ns/activitystreams", "https://evil.example/context.jsonld"]
    assert_refused_and_nothing_written(mover, other_community, rezip(mover.zip, outbox=outbox))


NEGATIVE_FEE = {"hasUnit": "CREDIT", "hasNumericalValue": "-3"}


@pytest.mark.parametrize(
    "field, value",
    [
        ("reciprocal", {"type": "Intent", "action": "transfer", "resourceQuantity": NEGATIVE_FEE}),
        ("name", ["a", "list"]),
        ("name", "x" * 500),
        ("id", "javascript:alert(1)"),
        ("attributedTo", "https://someone-else.example/people/9/"),
        ("maxLoanDays", "five"),
        ("maxLoanDays", 10000),
        ("condition", "<b>broken</b>"),
        ("publishes", None),
    ],
)  # fmt: skip
def test_one_malformed_listing_refuses_the_whole_file(mover, other_community, field, value):
    outbox = outbox_of(mover.zip)
    drill = next(i for i in outbox["orderedItems"] if i.get("name") == "Cordless drill")
    drill[field] = value
    error = assert_refused_and_nothing_written(mover, other_community, rezip(mover.zip, outbox=outbox))
    assert "nothing was moved" in error.message_dict["file"][0]
    mover.user.profile.refresh_from_db()
    assert mover.user.profile.display_name == "Mia Mover"


def test_a_huge_document_inside_the_zip_is_refused_before_it_is_read(mover, other_community, monkeypatch):
    monkeypatch.setattr(move_module, "MAX_DOCUMENT", 1000)
    outbox = outbox_of(mover.zip)
    assert len(json.dumps(outbox)) > 1000
    error = assert_refused_and_nothing_written(mover, other_community, mover.zip)
    assert "too big" in error.message_dict["file"][0]


def test_an_upload_over_the_size_cap_is_refused(mover, other_community, monkeypatch):
    monkeypatch.setattr(move_module, "MAX_UPLOAD", 100)
    error = assert_refused_and_nothing_written(mover, other_community, mover.zip)
    assert "too big" in error.message_dict["file"][0]


def test_too_many_items_are_refused(mover, other_community, monkeypatch):
    monkeypatch.setattr(move_module, "MAX_ITEMS", 2)
    assert_refused_and_nothing_written(mover, other_community, mover.zip)


# --- the page ---------------------------------------------------------------------
def test_the_page_says_what_moves_and_that_balances_and_reviews_stay(mover, web_as):
    page = web_as(mover.user).get(reverse("privacy:move"))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Your balances and reviews do not move" in text
    assert "Riverside Neighbors" in text and "Sunnyside Commons" in text
    assert reverse("privacy:move") in web_as(mover.user).get(reverse("privacy:page")).content.decode()


def test_the_page_moves_the_listings_and_says_what_it_did(mover, other_community, web_as):
    client = web_as(mover.user)
    response = client.post(
        reverse("privacy:move"),
        {"file": upload(mover.zip), "community": other_community.pk, "tools": "active", "profile": "on"},
    )
    assert response.status_code == 302 and response.url == reverse("privacy:move")
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("2 tools" in m and "1 offer of help" in m and "1 request for help" in m for m in said)
    assert listings_of(mover.user, other_community) == (2, 1, 1)
    assert set(Tool.objects.filter(community=other_community).values_list("status", flat=True)) == {"active"}


def test_a_bad_file_shows_the_form_again_with_a_clear_message(mover, other_community, web_as):
    response = web_as(mover.user).post(
        reverse("privacy:move"),
        {"file": upload(b"hello", name="holiday.jpg"), "community": other_community.pk, "tools": "paused"},
    )
    assert response.status_code == 400
    assert "This file is not a data download from p2pcommons" in response.content.decode()
    assert listings_of(mover.user, other_community) == (0, 0, 0)


def test_the_page_offers_only_communities_where_one_is_active(mover, other_community, web_as):
    Membership.objects.filter(user=mover.user, community=other_community).update(status=Membership.Status.SUSPENDED)
    response = web_as(mover.user).post(
        reverse("privacy:move"), {"file": upload(mover.zip), "community": other_community.pk, "tools": "paused"}
    )
    assert response.status_code == 400
    assert listings_of(mover.user, other_community) == (0, 0, 0)


def test_someone_in_no_community_is_asked_to_join_one_first(stranger, web_as):
    text = web_as(stranger).get(reverse("privacy:move")).content.decode()
    assert "Join a community here first" in text and 'enctype="multipart/form-data"' not in text


def test_the_page_needs_a_signed_in_member(client):
    response = client.get(reverse("privacy:move"))
    assert response.status_code == 302 and "login" in response.url


# --- the API ----------------------------------------------------------------------
def test_the_api_moves_the_listings_and_answers_what_moved(mover, other_community, api_as):
    client = api_as(mover.user)
    url = reverse("me-import")
    response = client.post(url, {"file": upload(mover.zip), "community": other_community.pk}, format="multipart")
    assert response.status_code == 201
    assert response.json() == {
        "tools": 2,
        "skill_offers": 1,
        "skill_requests": 1,
        "already_moved": 0,
        "left_out": [],
        "left_out_count": 0,
        "profile_updated": False,
    }
    again = client.post(url, {"file": upload(mover.zip), "community": other_community.pk}, format="multipart")
    assert again.status_code == 201 and again.json()["already_moved"] == 4 and again.json()["tools"] == 0
    assert set(Tool.objects.filter(community=other_community).values_list("status", flat=True)) == {"paused"}


def test_the_api_answers_a_bad_file_with_field_errors_and_a_stranger_with_a_conflict(mover, other_community, api_as):
    url = reverse("me-import")
    bad = api_as(mover.user).post(url, {"file": upload(b"nope"), "community": other_community.pk}, format="multipart")
    assert bad.status_code == 400 and "not a data download" in bad.json()["file"][0]
    missing = api_as(mover.user).post(url, {"file": upload(mover.zip), "community": 10**9}, format="multipart")
    assert missing.status_code == 400 and "community" in missing.json()
    stranger = api_as(UserFactory()).post(
        url, {"file": upload(mover.zip), "community": other_community.pk}, format="multipart"
    )
    assert stranger.status_code == 409 and stranger.json()["code"] == "not_member"
    assert listings_of(mover.user, other_community) == (0, 0, 0) and not MovedItem.objects.exists()


# --- at the same instant (PostgreSQL) -----------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_imports_of_one_file_at_the_same_instant_move_it_once(mover, other_community):
    results = run_together(
        *[lambda: move_house(user=mover.user, community=other_community, upload=upload(mover.zip)) for _ in range(3)]
    )
    assert all(isinstance(r, MoveReport) for r in results), results
    assert sorted(r.created_total for r in results) == [0, 0, 4]
    assert sorted(r.already for r in results) == [0, 4, 4]
    assert listings_of(mover.user, other_community) == (2, 1, 1)
    assert MovedItem.objects.filter(user=mover.user, community=other_community).count() == 4
