"""Property-based fuzzing of the REST API with schemathesis, from our own OpenAPI schema.

Every operation under /api/v1/ that /api/schema/ describes is called with generated
(valid and invalid) input, as a member who logged in through the real app-login
endpoint, against the real test database. No input may make the server answer 5xx,
and every documented response must match the schema's description of its body.

The member is also the organizer of a second community, so that organizer-only
operations (promote) and the "last organizer can't leave" rule get exercised too; and
generated path ids are often swapped for ids that exist, so that requests get past 404.

The data set is built once for the module and every test rolls back to it (a savepoint),
instead of flushing ~150 tables and building it again for each of the ~380 tests: the same
calls against the same rows, at a fraction of the cost on PostgreSQL. Requests still commit
as far as the app can tell: their on-commit callbacks (eager Celery tasks included) run
right after each call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import time as dt_time
from datetime import timedelta
from decimal import Decimal

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client, TestCase
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error, response_schema_conformance

from apps.codesign import services as codesign
from apps.codesign.models import Project
from apps.ledger.services import account_set_limit
from apps.peers.factories import (
    DEFAULT_PASSWORD,
    CommunityFactory,
    MembershipFactory,
    OrganizerMembershipFactory,
    UserFactory,
)
from apps.peers.models import Community, Membership, User
from apps.skills.factories import OfferFactory, RequestFactory, SeatFactory, SessionFactory, SkillFactory
from apps.skills.models import Match
from apps.solar import services as solar
from apps.solar.factories import MeterFactory, next_slot_start
from apps.solar.models import Slot
from apps.tools import services
from apps.tools.factories import ReservationFactory, ToolFactory
from p2pcommons.wsgi import application
from tests.tools.images import png_upload

API_PREFIX = "/api/v1/"
LOGIN_URL = "/_allauth/app/v1/auth/login"

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application).include(path_regex=r"^/api/v1/")

# Rows that exist in the current test, so generated path parameters can point at them.
# Filled by the ``fuzz_world`` fixture; read while Hypothesis draws each case.
_existing: dict[str, list] = {"ids": [], "memberships": []}


@schema.hook("flatmap_path_parameters")
def often_use_existing_ids(context, path_parameters: dict) -> st.SearchStrategy:
    """Half of the time, replace generated ids with ids of rows that exist.

    A membership is addressed under its own community, as a real client would.
    """
    if not path_parameters or not _existing["ids"]:
        return st.just(path_parameters)
    if set(path_parameters) == {"community_pk", "id"}:
        real = st.sampled_from(_existing["memberships"]).map(lambda pair: {"community_pk": pair[0], "id": pair[1]})
    else:
        real = st.fixed_dictionaries({name: st.sampled_from(_existing["ids"]) for name in path_parameters})
    return st.one_of(st.just(path_parameters), real)


@pytest.fixture(autouse=True)
def no_throttling(settings):
    """Throttles off, explicitly (test settings already have no rates): hundreds of
    generated calls by one member would reach the write limits and get 429s, which say
    nothing about server errors and would make the outcome depend on the call order."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}


@pytest.fixture(scope="module")
def fuzz_world(django_db_setup, django_db_blocker) -> Iterator[User]:
    """The world of the module, built once inside a transaction that is rolled back when the
    module ends; each test (plain ``django_db``) runs in a savepoint within it, so it starts
    from exactly these rows whatever the previous test's calls did."""
    outer = transaction.atomic()
    with django_db_blocker.unblock():
        outer.__enter__()
    try:
        with django_db_blocker.unblock(), TestCase.captureOnCommitCallbacks(execute=True):
            member = _build_world()
        yield member
    finally:
        _existing["ids"] = []
        _existing["memberships"] = []
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _build_world() -> User:
    """The member of ``sunnyside`` (next to the owner), who organizes ``riverside``; each
    lends a tool with a photo to the other, with loans in a few states and a waitlist entry.
    The people and communities are conftest's personas (a module fixture can't use them)."""
    community = CommunityFactory(slug="sunnyside", name="Sunnyside Commons")
    other_community = CommunityFactory(slug="riverside", name="Riverside Neighbors")
    owner, member = (
        MembershipFactory(community=community, user__email=email, user__profile__display_name=name).user
        for email, name in (("owner@example.org", "Olive Owner"), ("member@example.org", "Max Member"))
    )
    OrganizerMembershipFactory(community=other_community, user=member)
    river = MembershipFactory(community=other_community, user=UserFactory(email="river@example.org")).user
    ids = set(Community.objects.values_list("pk", flat=True))
    start = timezone.now() + timedelta(days=3)
    for lender, borrower in ((owner, member), (member, owner)):
        tool = ToolFactory(owner=lender, community=community)
        services.photo_add(tool=tool, actor=lender, upload=png_upload(size=(64, 48)))
        for day, status in enumerate(("requested", "approved", "picked_up")):
            ReservationFactory(
                tool=tool,
                borrower=borrower,
                status=status,
                starts_at=start + timedelta(days=2 * day),
                ends_at=start + timedelta(days=2 * day + 1),
            )
        ids |= {tool.pk, *tool.photos.values_list("pk", flat=True), *tool.reservations.values_list("pk", flat=True)}
    waiting = services.waitlist_join(tool=tool, member=owner, starts_at=start, ends_at=start + timedelta(hours=5))
    ids.add(waiting.pk)
    # The skill swap: an offer and a request that match, a one-to-one session and a group one.
    skill = SkillFactory(slug="fuzz-bike-repair")
    offer = OfferFactory(member=member, community=community, skills=[skill])
    request = RequestFactory(member=owner, community=community, skills=[skill])
    match = Match.objects.create(request=request, offer=offer, score="0.8", parts={}, reasons=["same skill"])
    session = SessionFactory(helper=member, community=community)
    SeatFactory(session=session, learner=owner)
    group = SessionFactory(helper=owner, community=community, capacity=5)
    ids |= {skill.pk, offer.pk, request.pk, match.pk, session.pk, group.pk}
    # The solar market: a meter each with a device token, a cleared slot with a trade
    # between them, an open order and a standing order of the member's.
    panels = MeterFactory(owner=member, community=community, kind="both", peak_capacity_w=4000)
    home = MeterFactory(owner=owner, community=community, kind="consumer", peak_capacity_w=8000)
    tokens = [solar.device_token_create(meter=meter, actor=meter.owner, label="Pi")[0] for meter in (panels, home)]
    now = timezone.now()
    cleared = next_slot_start(now)
    solar.order_place(member=member, meter=panels, slot_start=cleared, side="sell", quantity_wh=300, limit_price="0.2")
    solar.order_place(member=owner, meter=home, slot_start=cleared, side="buy", quantity_wh=200, limit_price="0.3")
    slot = Slot.objects.get(start=cleared)
    solar.slot_clear(slot_id=slot.pk, now=cleared - timedelta(minutes=4))
    sale = solar.order_place(
        member=member,
        meter=panels,
        slot_start=next_slot_start(now, ahead=3),
        side="sell",
        quantity_wh=100,
        limit_price="0.25",
    )
    standing = solar.standing_create(
        member=member,
        meter=panels,
        side="sell",
        quantity_wh=100,
        limit_price="0.2",
        from_time=dt_time(10),
        until_time=dt_time(16),
    )
    ids |= {panels.pk, home.pk, slot.pk, sale.pk, sale.slot_id, standing.pk, *(t.pk for t in tokens)}
    ids |= set(slot.trades.values_list("pk", flat=True))
    ids |= _codesign_world(organizer=member, neighbor=river, community=other_community)
    _existing["ids"] = sorted(ids)
    _existing["memberships"] = list(Membership.objects.values_list("community_id", "pk"))
    return member


def _codesign_world(*, organizer: User, neighbor: User, community: Community) -> set[int]:
    """Co-design in the community ``organizer`` runs: a challenge in its ideas phase with
    an idea, one in voting with two accepted proposals, comments and a ballot, and one
    being built with a task the neighbor joined (the fund may pay their hours)."""
    now = timezone.now()

    def challenge(title: str):
        return codesign.challenge_create(
            community=community, actor=organizer, title=title, brief="A **bench**.", space="The yard",
            ideas_until=now + timedelta(days=3), proposals_until=now + timedelta(days=6),
            voting_until=now + timedelta(days=9), budget=Decimal("300"),
        )  # fmt: skip

    ideas = challenge("Ideas for the yard")
    idea = codesign.idea_post(challenge=ideas, author=neighbor, text="A swing.")
    voting = codesign.challenge_step(challenge=challenge("A bench"), actor=organizer, step="open_proposals")
    proposals = []
    for author in (organizer, neighbor):
        proposal = codesign.proposal_create(challenge=voting, author=author, title="Bench", description="Oak.",
                                            cost=Decimal("100"), submit=True)  # fmt: skip
        codesign.proposal_answer(proposal=proposal, actor=organizer, accept=True, publish=True)
        proposals.append(proposal)
    draft = codesign.proposal_create(challenge=voting, author=organizer, title="Sketch", description="Later.")
    comment = codesign.comment_post(challenge=voting, author=neighbor, text="Nice.", proposal=proposals[0])
    voting = codesign.challenge_step(challenge=voting, actor=organizer, step="open_voting")
    codesign.vote_set(proposal=proposals[1], voter=organizer, dots=2)
    built = codesign.challenge_step(challenge=challenge("A planter"), actor=organizer, step="open_proposals")
    winner = codesign.proposal_create(challenge=built, author=neighbor, title="Planter", description="Pine.",
                                      submit=True)  # fmt: skip
    codesign.proposal_answer(proposal=winner, actor=organizer, accept=True)
    built = codesign.challenge_step(challenge=built, actor=organizer, step="open_voting")
    codesign.vote_set(proposal=winner, voter=organizer, dots=1)
    built = codesign.challenge_step(challenge=built, actor=organizer, step="close_voting")
    project = Project.objects.get(proposal=winner)
    task = codesign.task_create(project=project, actor=organizer, title="Dig", hours=Decimal("1"), places=3)
    volunteer = codesign.task_join(task=task, member=neighbor)
    fund = codesign.fund(challenge=built, currency="HOUR")
    account_set_limit(account=fund, actor=organizer, limit="-40", reason="The fund pays volunteers.")
    return {ideas.pk, idea.pk, voting.pk, built.pk, draft.pk, comment.pk, project.pk, task.pk, volunteer.pk,
            *(p.pk for p in proposals), winner.pk}  # fmt: skip


@pytest.fixture(scope="module")
def member_token(fuzz_world, django_db_blocker) -> str:
    """A session token from the app-login endpoint, the way a mobile app gets one (its
    session row is part of the module's world)."""
    with django_db_blocker.unblock():
        response = Client().post(
            LOGIN_URL,
            data=json.dumps({"email": fuzz_world.email, "password": DEFAULT_PASSWORD}),
            content_type="application/json",
        )
    assert response.status_code == 200, response.content
    return response.json()["meta"]["session_token"]


@pytest.fixture
def as_if_committed(member_token, django_capture_on_commit_callbacks) -> Iterator:
    """``with as_if_committed():`` around a call: what a committed request would do.

    Django's WSGI handler closes "old" connections when a request starts and ends, which
    inside the test's transaction would close it (Django's test client turns this off the
    same way); and on-commit callbacks run when the call returns, as they would at commit.
    It comes after ``member_token``: the test client's login connects the signals again.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield lambda: django_capture_on_commit_callbacks(execute=True)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_input_makes_the_api_fail_with_a_server_error(case, member_token, as_if_committed):
    # Undocumented statuses (404, 400, 401/403) are not checked: drf-spectacular
    # documents success responses only, so status_code_conformance would flag them all.
    with as_if_committed():
        case.call_and_validate(
            headers={"X-Session-Token": member_token}, checks=[not_a_server_error, response_schema_conformance]
        )


# Django's <int:...> path converter accepts any number of digits; the database takes
# 64-bit integers at most. An id past that must be "not found", never a server error,
# also when the other ids in the path are real. Random fuzzing finds such inputs only
# now and then, so each id of each operation is asked directly.
ID_PARAMETERS = [
    (operation, parameter.name)
    for operation in (result.ok() for result in schema.get_all_operations())
    for parameter in operation.path_parameters
]
TOO_LARGE_IDS = [2**63, 10**30]


@pytest.mark.django_db
@pytest.mark.parametrize(("operation", "too_large_param"), ID_PARAMETERS, ids=lambda v: getattr(v, "label", v))
@pytest.mark.parametrize("too_large", TOO_LARGE_IDS, ids=lambda n: f"{len(str(n))}-digits")
def test_an_id_too_large_for_the_database_is_not_found(
    operation, too_large_param, too_large, member_token, as_if_committed
):
    membership = Membership.objects.filter(user__email="owner@example.org").get()
    real = {
        "community_pk": membership.community_id,
        "id": membership.community_id,
        "photo_id": 1,
        "request_pk": 1,
        "token_id": 1,
        "key": "tools",
        "number": 1,
    }
    if "/members/" in operation.path:
        real["id"] = membership.pk
    path_parameters = {param.name: real[param.name] for param in operation.path_parameters}
    path_parameters[too_large_param] = too_large

    with as_if_committed():
        response = operation.Case(path_parameters=path_parameters).call(headers={"X-Session-Token": member_token})

    assert response.status_code == 404, f"{operation.method.upper()} {path_parameters}: {response.status_code}"


@pytest.mark.django_db
def test_the_schema_describes_every_api_v1_endpoint(client):
    response = client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {
        "/api/v1/me/",
        "/api/v1/communities/",
        "/api/v1/communities/{id}/",
        "/api/v1/communities/{id}/join/",
        "/api/v1/communities/{id}/leave/",
        "/api/v1/communities/{community_pk}/members/",
        "/api/v1/communities/{community_pk}/members/{id}/promote/",
    } <= set(paths)
    assert set(paths["/api/v1/me/"]) >= {"get", "put", "patch"}
    assert all(path.startswith(API_PREFIX) for path in paths), "the schema must describe only /api/v1/"


@pytest.mark.django_db
def test_the_api_docs_load_nothing_from_a_cdn(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    # Swagger UI's start-up script is a file of its own (no inline script, for the
    # Content-Security-Policy); it points at the schema.
    [start_up] = re.findall(r"""<script src=["']([^"']*script[^"']*)["']""", html)
    assert "/api/schema/" in client.get(start_up.replace("&amp;", "&")).content.decode()
    for external in ("https://cdn", "//cdn", "unpkg", "jsdelivr", "cdnjs", "googleapis"):
        assert external not in html, f"/api/docs/ loads something from {external!r}"
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert assets, "the Swagger UI page should load its script and stylesheet"
    assert [url for url in assets if not url.startswith("/") or url.startswith("//")] == []
