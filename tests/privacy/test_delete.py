"""Delete my account (issue 16): personal data gone everywhere, open plans with others
called off (and they are told), what can't be undone kept under a pseudonym, the ledger
still verifiable; and the rules around it on the page, the API and the service."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.db import models
from django.db.models import Q, Sum, TextField
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from apps.codesign import services as codesign
from apps.codesign.factories import CommentFactory, IdeaFactory, ProposalFactory
from apps.codesign.models import Challenge, Comment, Idea, Proposal
from apps.front.models import Suggestion
from apps.ledger.chain import verify_community
from apps.ledger.models import Account, Currency
from apps.ledger.services import account_for, gift_send
from apps.moderation.services import flag_create
from apps.notifications.models import Notification
from apps.peers.factories import DEFAULT_PASSWORD, CommunityFactory, MembershipFactory
from apps.peers.models import Community, JoinRequest, Membership, Profile, User
from apps.peers.services import join_request_create
from apps.privacy.deletion import REMOVED_BY_AUTHOR, account_delete, deletion_preview
from apps.privacy.models import Erasure, ExportJob
from apps.reputation.factories import ReviewFactory
from apps.skills.factories import OfferFactory, SeatFactory, SessionFactory
from apps.skills.models import Offer, Seat, Session
from apps.solar import services as solar
from apps.solar.factories import MeterFactory, next_slot_start
from apps.solar.models import Meter, Order
from apps.tools import services as tools
from apps.tools.factories import ReservationFactory, ToolFactory
from apps.tools.models import Reservation, Tool
from p2pcommons.errors import RuleViolation

NAME = "Zebedee Quartermaine"
EMAIL = "zebedee.q@example.org"
PHONE = "+31 6 9876 5432"
ADDRESS = "Kastanjelaan 77"
SECRETS = (NAME, EMAIL, PHONE, ADDRESS)


@dataclass
class World:
    community: Community
    zebedee: User
    owner: User
    member: User
    organizer: User
    loan: Reservation
    completed_loan: Reservation
    session: Session
    order: Order
    challenge: Challenge
    comment: Comment


@pytest.fixture
def world(community, owner, member, organizer, settings, tmp_path) -> World:
    """Zebedee, with rows in every app and open plans with others; names everywhere."""
    settings.EXPORT_ROOT = tmp_path / "exports"
    settings.EXPORT_ROOT.mkdir()
    zebedee = MembershipFactory(
        community=community,
        user__email=EMAIL,
        user__profile__display_name=NAME,
        user__profile__phone=PHONE,
        user__profile__exact_address=ADDRESS,
        user__profile__bio=f"I am {NAME}; ring {PHONE} or mail {EMAIL}.",
    ).user
    now = timezone.now()

    # Tools: a loan approved, not picked up (Olive lends to Zebedee) ...
    drill = ToolFactory(owner=owner, community=community, title="Olive's drill")
    loan = tools.reservation_request(
        tool=drill,
        borrower=zebedee,
        starts_at=now + timedelta(days=2),
        ends_at=now + timedelta(days=3),
        message=f"Thanks! {NAME}, {PHONE}",
    )
    loan = tools.reservation_approve(reservation=loan, actor=owner)
    # ... and a completed loan of Zebedee's ladder to Max, reviewed both ways.
    ladder = ToolFactory(owner=zebedee, community=community, title="Long ladder", description=f"Call {NAME} at {PHONE}")
    completed = ReservationFactory(
        tool=ladder,
        borrower=member,
        starts_at=now - timedelta(days=5),
        ends_at=now - timedelta(days=4),
        status=Reservation.Status.RETURNED,
        returned_at=now - timedelta(days=4),
    )
    ReviewFactory(exchange=completed, author=zebedee, subject=member, comment="Max brought it back clean.")
    ReviewFactory(exchange=completed, author=member, subject=zebedee, comment=f"{NAME} was very kind.")

    # Skills: a session not yet held (Zebedee helps Max), an open offer.
    session = SessionFactory(helper=zebedee, community=community, title="Bike repair", place=f"{ADDRESS}, garage")
    SeatFactory(session=session, learner=member)
    OfferFactory(member=zebedee, community=community, title="Bike repair", description=f"Ask for {NAME}")

    # Solar: a meter and an open order.
    meter = MeterFactory(owner=zebedee, community=community, name=f"{NAME}'s roof", kind=Meter.Kind.BOTH)
    order = solar.order_place(
        member=zebedee,
        meter=meter,
        slot_start=next_slot_start(now, ahead=4),
        side="sell",
        quantity_wh=500,
        limit_price="0.20",
    )

    # Co-design: a ballot in an open vote, a comment others replied to, an idea.
    challenge = codesign.challenge_create(
        community=community,
        actor=organizer,
        title="A bench for the courtyard",
        brief="The courtyard has nowhere to sit.",
        space="The courtyard behind number 12",
        ideas_until=now + timedelta(days=7),
        proposals_until=now + timedelta(days=14),
        voting_until=now + timedelta(days=21),
        budget=Decimal("300.00"),
    )
    proposal = ProposalFactory(challenge=challenge, author=owner, status=Proposal.Status.ACCEPTED)
    IdeaFactory(challenge=challenge, author=zebedee, text=f"A swing, says {NAME}")
    comment = CommentFactory(challenge=challenge, author=zebedee, text=f"{NAME} here: phone me on {PHONE}")
    CommentFactory(challenge=challenge, author=member, parent=comment, text=f"Good idea, {NAME}!")
    Challenge.objects.filter(pk=challenge.pk).update(phase=Challenge.Phase.VOTING)
    codesign.vote_set(proposal=proposal, voter=zebedee, dots=2)

    # Ledger: Zebedee gives Olive 3 hours (below zero now); Olive is told by name.
    gift_send(
        sender=zebedee,
        recipient=owner,
        community=community,
        currency=Currency.HOUR,
        amount=Decimal("3"),
        memo="Thanks for the drill",
        idempotency_key="thanks",
    )

    # Moderation: Max reports Zebedee (the report's label names him); Zebedee reports a tool.
    flag_create(reporter=member, target=zebedee, reason="other", text=f"{NAME} was rude", community=community)
    flag_create(reporter=zebedee, target=drill, reason="other", text=f"Signed, {NAME}")

    # Peers: a request to join another community, with a message.
    elsewhere = CommunityFactory(slug="elsewhere", join_policy=Community.JoinPolicy.APPROVAL)
    MembershipFactory(community=elsewhere, role=Membership.Role.ORGANIZER)
    join_request_create(community=elsewhere, user=zebedee, message=f"Hello, I'm {NAME}")

    # Front and privacy: a suggestion, an export waiting to be downloaded.
    Suggestion.objects.create(
        user=zebedee,
        pair="skill_request_tools",
        title=f"For {NAME}",
        reason="",
        url="/",
        source_key="a",
        target_key="b",
    )
    (settings.EXPORT_ROOT / "zebedee.zip").write_bytes(b"zip")
    ExportJob.objects.create(user=zebedee, status=ExportJob.Status.READY, file="zebedee.zip")

    return World(community, zebedee, owner, member, organizer, loan, completed, session, order, challenge, comment)


def _delete(world: World) -> Erasure:
    return account_delete(user=world.zebedee, actor=world.zebedee, confirm_negative=True, password=DEFAULT_PASSWORD)


def find_everywhere(needles) -> list[tuple[str, str, object]]:
    """Every (table, column, pk) whose text, char or JSON value contains a needle."""
    hits = []
    for model in django_apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.JSONField):
                queryset = model._base_manager.annotate(_as_text=Cast(field.attname, TextField()))
                condition = Q()
                for needle in needles:
                    condition |= Q(_as_text__icontains=needle) | Q(_as_text__icontains=json.dumps(needle)[1:-1])
            elif isinstance(field, models.CharField | models.TextField):
                queryset = model._base_manager.all()
                condition = Q()
                for needle in needles:
                    condition |= Q(**{f"{field.attname}__icontains": needle})
            else:
                continue
            for pk in queryset.filter(condition).values_list("pk", flat=True):
                hits.append((model._meta.db_table, field.attname, pk))
    return hits


def test_the_world_names_zebedee_everywhere_before_the_deletion(world):
    """The search below is not vacuous: before, the name, email and phone are all over."""
    tables = {table for table, _, _ in find_everywhere(SECRETS)}
    for table in ("peers_user", "peers_profile", "notifications_notification", "codesign_comment", "tools_tool"):
        assert table in tables


def test_after_deletion_no_table_holds_the_name_email_phone_or_address(world):
    erasure = _delete(world)

    assert find_everywhere(SECRETS) == []
    assert erasure.pseudonym.startswith("Former neighbor ")
    assert Profile.objects.get(user=world.zebedee).display_name == erasure.pseudonym


def test_the_account_itself_is_emptied_and_signed_out_everywhere(
    world, client, settings, django_capture_on_commit_callbacks
):
    client.force_login(world.zebedee)
    with django_capture_on_commit_callbacks(execute=True):
        erasure = _delete(world)

    user = User.objects.get(pk=world.zebedee.pk)
    profile = user.profile
    assert user.email.endswith("@deleted.invalid")
    assert not user.is_active and not user.is_staff and not user.is_superuser
    assert not user.has_usable_password()
    assert (profile.bio, profile.phone, profile.exact_address, profile.neighborhood) == ("", "", "", "")
    assert profile.approx_latitude is None and profile.approx_longitude is None
    assert not user.emailaddress_set.exists()
    assert not Membership.objects.filter(user=user).exists()
    assert not ExportJob.objects.filter(user=user).exists()
    assert not (settings.EXPORT_ROOT / "zebedee.zip").exists()
    assert not Notification.objects.filter(recipient=user).exists()
    assert client.get(reverse("ledger:mine")).status_code == 302  # the session is gone
    assert Erasure.objects.get(user=user).pseudonym == erasure.pseudonym


def test_open_commitments_are_cancelled_and_the_other_parties_are_told(world):
    erasure = _delete(world)

    world.loan.refresh_from_db()
    world.session.refresh_from_db()
    world.order.refresh_from_db()
    assert world.loan.status == Reservation.Status.CANCELLED
    assert world.session.status == Session.Status.CANCELLED
    assert Seat.objects.get(session=world.session).status == Seat.Status.LEFT
    assert world.order.status == Order.Status.CANCELLED
    assert not world.challenge.ballots.exists()
    assert not Offer.objects.filter(member=world.zebedee).exists()
    assert JoinRequest.objects.get(user=world.zebedee).status == JoinRequest.Status.WITHDRAWN
    assert erasure.cancelled >= 5

    olive_told = Notification.objects.filter(recipient=world.owner, kind="tools.decided").latest("pk")
    assert olive_told.text == f"{erasure.pseudonym} cancelled the loan of Olive's drill"
    max_told = Notification.objects.filter(recipient=world.member, kind="skills.session").latest("pk")
    assert max_told.text.startswith(f"{erasure.pseudonym} cancelled \u201cBike repair\u201d")


def test_what_cannot_be_undone_stays_under_the_pseudonym(world):
    erasure = _delete(world)

    completed = Reservation.objects.get(pk=world.completed_loan.pk)
    assert completed.status == Reservation.Status.RETURNED
    ladder = Tool.objects.get(pk=completed.tool_id)
    assert ladder.status == Tool.Status.RETIRED and ladder.description == ""
    review = world.zebedee.reviews_written.get()
    assert review.comment == "Max brought it back clean."
    # The comment Max replied to keeps its place; the unanswered idea is gone.
    assert Comment.objects.get(pk=world.comment.pk).text == REMOVED_BY_AUTHOR
    assert Comment.objects.filter(parent=world.comment).get().text == f"Good idea, {erasure.pseudonym}!"
    assert not Idea.objects.filter(author=world.zebedee).exists()
    assert Meter.objects.get(owner=world.zebedee).name == "Meter"


def test_the_ledger_keeps_its_amounts_and_still_verifies(world):
    before = list(Account.objects.filter(owner=world.zebedee).values_list("currency", "balance"))
    _delete(world)

    assert list(Account.objects.filter(owner=world.zebedee).values_list("currency", "balance")) == before
    assert verify_community(community=world.community).ok
    for currency in Currency.values:
        total = Account.objects.filter(community=world.community, currency=currency).aggregate(s=Sum("balance"))["s"]
        assert (total or Decimal(0)) == 0


def test_the_community_history_pages_show_the_pseudonym(world, client):
    erasure = _delete(world)
    client.force_login(world.member)

    ledger = client.get(reverse("ledger:community", args=[world.community.slug])).content.decode()
    loan = client.get(reverse("tools:loan", args=[world.completed_loan.pk])).content.decode()
    reviews = client.get(reverse("peers:profile", args=[world.member.pk])).content.decode()
    for page in (ledger, loan, reviews):
        assert erasure.pseudonym in page
        assert NAME not in page


def test_the_page_says_what_will_be_cancelled_and_what_stays(world, client):
    client.force_login(world.zebedee)
    page = client.get(reverse("account_delete:start")).content.decode()

    assert "Your loan of Olive&#x27;s drill from Olive Owner" in page
    assert "The session \u201cBike repair\u201d" in page
    assert "Your ballot in the vote on \u201cA bench for the courtyard\u201d" in page
    assert "Your balance is below zero" in page
    assert 'name="confirm_negative"' in page


def test_deleting_from_the_page_signs_out_and_says_so(world, client):
    client.force_login(world.zebedee)
    response = client.post(
        reverse("account_delete:start"),
        {"confirm_word": "DELETE", "password": DEFAULT_PASSWORD, "confirm_negative": "on"},
        follow=True,
    )

    assert "Your account is deleted" in response.content.decode()
    assert not response.context["user"].is_authenticated
    assert Erasure.objects.filter(user=world.zebedee).exists()


def test_a_negative_balance_must_be_confirmed_on_the_page(world, client):
    client.force_login(world.zebedee)
    response = client.post(reverse("account_delete:start"), {"confirm_word": "DELETE", "password": DEFAULT_PASSWORD})

    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert not Erasure.objects.exists()
    assert User.objects.get(pk=world.zebedee.pk).is_active


def test_a_negative_balance_must_be_confirmed_in_the_api(world, api_as):
    api = api_as(world.zebedee)
    refused = api.post("/api/v1/me/delete/", {"confirm": True, "password": DEFAULT_PASSWORD}, format="json")

    assert refused.status_code == 409
    assert refused.json()["code"] == "negative_balance"
    assert refused.json()["balances"] == [{"community": world.community.name, "currency": "HOUR", "balance": "-3.00"}]
    assert not Erasure.objects.exists()

    done = api.post(
        "/api/v1/me/delete/",
        {"confirm": True, "confirm_negative_balance": True, "password": DEFAULT_PASSWORD},
        format="json",
    )
    assert done.status_code == 204
    assert Erasure.objects.filter(user=world.zebedee).exists()


def test_the_service_refuses_a_negative_balance_without_confirmation(world):
    with pytest.raises(RuleViolation) as refused:
        account_delete(user=world.zebedee, actor=world.zebedee, password=DEFAULT_PASSWORD)
    assert refused.value.code == "negative_balance"


def test_the_api_preview_lists_what_happens(world, api_as):
    answer = api_as(world.zebedee).get("/api/v1/me/delete/").json()

    assert answer["can_delete"] is True
    assert answer["negative_balances"][0]["currency"] == "HOUR"
    assert any("Olive's drill" in line for line in answer["cancelled"])


@pytest.fixture
def plain(community):
    return MembershipFactory(community=community, user__email="plain@example.org").user


def test_the_last_organizer_of_a_community_with_members_is_refused(community, organizer, member, api_as, client):
    with pytest.raises(RuleViolation) as refused:
        account_delete(user=organizer, actor=organizer, password=DEFAULT_PASSWORD)
    assert refused.value.code == "last_organizer"
    assert refused.value.data == {"communities": [community.name]}

    answer = api_as(organizer).post(
        "/api/v1/me/delete/", {"confirm": True, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert answer.status_code == 409 and answer.json()["code"] == "last_organizer"

    client.force_login(organizer)
    page = client.get(reverse("account_delete:start")).content.decode()
    assert "You are the last organizer of" in page and 'name="password"' not in page
    assert User.objects.get(pk=organizer.pk).is_active


def test_an_organizer_who_is_not_the_last_may_delete(community, organizer, member):
    Membership.objects.filter(user=member, community=community).update(role=Membership.Role.ORGANIZER)

    account_delete(user=organizer, actor=organizer, password=DEFAULT_PASSWORD)

    assert not User.objects.get(pk=organizer.pk).is_active


def test_another_member_cannot_delete_someone_else(plain, member):
    with pytest.raises(RuleViolation) as refused:
        account_delete(user=plain, actor=member, password=DEFAULT_PASSWORD)
    assert refused.value.code == "forbidden"
    assert User.objects.get(pk=plain.pk).is_active


def test_a_wrong_password_is_refused_on_the_page_and_the_api(plain, client, api_as):
    client.force_login(plain)
    page = client.post(reverse("account_delete:start"), {"confirm_word": "DELETE", "password": "nope"})
    assert page.status_code == 400
    assert "That is not your password." in page.content.decode()

    answer = api_as(plain).post("/api/v1/me/delete/", {"confirm": True, "password": "nope"}, format="json")
    assert answer.status_code == 400
    assert "password" in json.dumps(answer.json())
    assert not Erasure.objects.exists()


def test_the_confirmation_word_and_flag_are_required(plain, client, api_as):
    client.force_login(plain)
    page = client.post(reverse("account_delete:start"), {"confirm_word": "yes", "password": DEFAULT_PASSWORD})
    assert page.status_code == 400
    assert "Type the word DELETE" in page.content.decode()

    answer = api_as(plain).post("/api/v1/me/delete/", {"confirm": False, "password": DEFAULT_PASSWORD}, format="json")
    assert answer.status_code == 400
    assert not Erasure.objects.exists()


def test_a_deleted_member_cannot_sign_in(plain, client):
    account_delete(user=plain, actor=plain, password=DEFAULT_PASSWORD)

    assert not client.login(email="plain@example.org", password=DEFAULT_PASSWORD)
    response = client.post(reverse("account_login"), {"login": "plain@example.org", "password": DEFAULT_PASSWORD})
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200  # the form again, with its error


def test_deleting_twice_is_refused(plain):
    account_delete(user=plain, actor=plain, password=DEFAULT_PASSWORD)
    plain.refresh_from_db()
    with pytest.raises(RuleViolation) as refused:
        account_delete(user=plain, actor=plain)
    assert refused.value.code == "already_deleted"
    assert Erasure.objects.count() == 1


def test_pseudonyms_are_distinct_and_stable(community):
    users = [MembershipFactory(community=community).user for _ in range(5)]
    names = {account_delete(user=u, actor=u).pseudonym for u in users}
    assert len(names) == 5
    for user in users:
        assert Profile.objects.get(user=user).display_name == Erasure.objects.get(user=user).pseudonym


def test_organizers_see_that_an_account_was_deleted_not_who(world, client):
    erasure = _delete(world)
    client.force_login(world.organizer)

    page = client.get(reverse("admin:privacy_erasure_changelist")).content.decode()
    assert erasure.pseudonym in page
    for secret in (NAME, EMAIL, PHONE):
        assert secret not in page
    assert client.get(reverse("admin:privacy_erasure_add")).status_code == 403


def test_organizers_of_other_communities_do_not_see_the_erasure(plain, client):
    erasure = account_delete(user=plain, actor=plain)
    other = MembershipFactory(community=CommunityFactory(slug="far"), role=Membership.Role.ORGANIZER).user
    User.objects.filter(pk=other.pk).update(is_staff=True)
    client.force_login(other)

    page = client.get(reverse("admin:privacy_erasure_changelist"))
    assert erasure.pseudonym not in page.content.decode()


def test_the_pages_need_a_signed_in_member(client):
    response = client.get(reverse("account_delete:start"))
    assert response.status_code == 302
    assert client.get(reverse("account_delete:done")).status_code == 200
    assert client.post("/api/v1/me/delete/", {}, content_type="application/json").status_code in (401, 403)


def test_the_preview_of_a_member_without_plans_is_short(plain):
    preview = deletion_preview(plain)
    assert preview.can_delete
    assert preview.negative_balances == []
    assert account_for(user=plain, community=Community.objects.get(slug="sunnyside"), currency="HOUR").balance == 0
