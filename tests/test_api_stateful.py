"""Stateful property-based testing of the REST API with schemathesis: create -> act -> read.

Schemathesis builds a state machine from the OpenAPI ``links`` that
``p2pcommons.api.schema._link_creates`` puts on every create's 201 (its own link inference
is switched off, so a lost link shows here): each scenario creates something (a tool, a
loan, an offer, an order, a challenge ...), then follows links to act on what it created
(approve, pick up, cancel, vote, change ...) and read it back, with generated input at
every step. Against the real app (WSGI) and the real test database, as a member who logged
in through the app-login endpoint and who also organizes a community, in the world of
``tests/test_api_fuzz.py``.

Checks on every response: no server error, the body matches the schema for its status,
a created thing can be read through its links (``ensure_resource_availability``) and a
deleted one can't (``use_after_free``). Each scenario runs in a savepoint that is rolled
back, so scenarios don't pile rows on each other and a failing one replays from the same
world. Bounded: ``MAX_SCENARIOS`` scenarios of at most ``MAX_STEPS`` calls.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import ensure_resource_availability, use_after_free

from apps.codesign.models import Challenge, Project, Proposal, Task
from apps.peers.models import Community, User
from apps.skills.models import Offer, Request, Skill
from apps.solar.factories import next_slot_start
from apps.solar.models import Meter
from apps.tools.factories import ToolFactory
from apps.tools.models import Category, Reservation, Tool, WaitlistEntry
from p2pcommons.wsgi import application
from tests import reliability
from tests import test_api_fuzz as fuzz
from tests.tools.images import png_upload

# The module world, the login and the on-commit wrapper of the stateless fuzz test, used
# here by their names (pytest finds fixtures in the module's namespace).
fuzz_world = fuzz.fuzz_world
member_token = fuzz.member_token
as_if_committed = fuzz.as_if_committed
no_throttling = fuzz.no_throttling

# Bounded for CI (about a minute on PostgreSQL); P2P_STATEFUL_SCENARIOS=1000 explores longer locally.
MAX_SCENARIOS = int(os.environ.get("P2P_STATEFUL_SCENARIOS", "60"))
MAX_STEPS = 8
CHECKS = [not_a_server_error, response_schema_conformance, ensure_resource_availability, use_after_free]

# Only the schema's own links drive the machine: schemathesis' inference is off, so the test
# shows whether the links are there and usable. Stateful steps send valid input (the fuzz
# test sends invalid input); with invalid bodies a chain would rarely get past its first 400.
CONFIG = SchemathesisConfig.from_dict(
    {"phases": {"stateful": {"inference": {"algorithms": []}}}, "generation": {"mode": "positive"}}
)
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=CONFIG).include(
    path_regex=r"^/api/v1/"
)


# The ids of the world by the collection that addresses them (``/challenges/{id}/tasks/`` takes
# a challenge's id): filled by the ``world`` fixture.
_ids_by_collection: dict[str, list[int]] = {}


@schema.hook("flatmap_path_parameters")
def often_an_id_of_the_right_kind(context, path_parameters: dict) -> st.SearchStrategy:
    """A root step's path ids: by turns generated, any id of the world (the fuzz test's hook)
    or the id of a row of the kind its collection holds, so a nested create (a proposal
    in a challenge, a token of a meter) starts a chain often enough."""
    if not path_parameters:
        return st.just(path_parameters)
    path = context.operation.path if context.operation is not None else ""
    kinds = {name: re.search(r"([\w-]+)/\{" + name + r"\}", path) for name in path_parameters}
    pools = {name: _ids_by_collection.get(kind[1]) if kind else None for name, kind in kinds.items()}
    fallback = fuzz.often_use_existing_ids(context, path_parameters)
    if not all(pools.values()):
        return fallback
    right = st.fixed_dictionaries({name: st.sampled_from(pool) for name, pool in pools.items()})
    return st.one_of(right, fallback)


# What a create's body may name, and valid bodies for each create: filled by the ``world``
# fixture from the rows of the module's world. Generated bodies alone rarely get past the
# app's own rules (a date in year 8, a community that doesn't exist), and a chain stops at
# its first 400; so a body is, by turns, the generated one, the generated one naming real
# rows, or a valid one (with generated text), and the links then have something to act on.
_references: dict[str, list[int]] = {}
_valid_bodies: dict[str, st.SearchStrategy] = {}


@schema.hook("flatmap_body")
def often_a_body_the_app_accepts(context, body: Any) -> st.SearchStrategy:
    """The generated body, the same naming real rows, or (for a create) a valid one."""
    options = [st.just(body)]
    valid = _valid_bodies.get(context.operation.label) if context.operation is not None else None
    if valid is not None:
        options.insert(0, valid)
    if isinstance(body, dict):
        fields = {name: st.sampled_from(_references[name]) for name in body if _references.get(name)}
        if "skills" in body and _references.get("skill"):
            fields["skills"] = st.lists(st.sampled_from(_references["skill"]), min_size=1, max_size=2, unique=True)
        if fields:
            options.append(st.fixed_dictionaries(fields).map(lambda real: {**body, **real}))
    return st.one_of(options)


def _valid(world: dict) -> dict[str, st.SearchStrategy]:
    """A valid body of each create, as the member of ``sunnyside`` who organizes ``riverside``."""
    now = timezone.now()
    words = st.text(alphabet="abcdefghij klmnop", min_size=1, max_size=30).map(str.strip).filter(bool)

    def when(days: int) -> str:
        return (now + timedelta(days=days)).isoformat()

    loan_days = st.integers(min_value=20, max_value=400)
    return {
        "POST /api/v1/tools/": st.fixed_dictionaries(
            {"title": words, "category": st.sampled_from(world["categories"]), "community": st.just(world["home"])},
            optional={"auto_approve": st.booleans(), "condition": st.sampled_from(["new", "good", "worn"])},
        ),
        "POST /api/v1/reservations/": st.builds(
            lambda tool, day: {"tool": tool, "starts_at": when(day), "ends_at": when(day + 1)},
            st.sampled_from(world["lendable"]),
            loan_days,
        ),
        "POST /api/v1/waitlist/": st.sampled_from(world["taken"]),
        "POST /api/v1/skills/offers/": st.fixed_dictionaries(
            {"community": st.just(world["home"]), "title": words, "skills": st.just(world["skills"][:1])}
        ),
        "POST /api/v1/skills/requests/": st.fixed_dictionaries(
            {
                "community": st.just(world["home"]),
                "title": words,
                "skills": st.just(world["skills"][:1]),
                "wanted_from": st.just((now + timedelta(days=1)).date().isoformat()),
                "wanted_until": st.just((now + timedelta(days=30)).date().isoformat()),
            }
        ),
        "POST /api/v1/skills/sessions/": st.fixed_dictionaries(
            {
                "community": st.just(world["home"]),
                "title": words,
                "helper": st.just(world["member"]),
                "learner": st.just(world["owner"]),
                "starts_at": st.just(when(5)),
                "planned_hours": st.sampled_from(["1", "1.5", "2"]),
                "place": st.just("The library"),
            }
        ),
        "POST /api/v1/solar/meters/": st.fixed_dictionaries(
            {
                "community": st.just(world["home"]),
                "name": words,
                "kind": st.sampled_from(["producer", "consumer", "both"]),
                "peak_capacity_w": st.integers(min_value=500, max_value=9000),
            }
        ),
        "POST /api/v1/solar/orders/": st.builds(
            lambda ahead, side, wh: {
                "meter": world["panels"],
                "slot_start": next_slot_start(timezone.now(), ahead=ahead).isoformat(),
                "side": side,
                "quantity_wh": wh,
                "limit_price": "0.25",
            },
            st.integers(min_value=4, max_value=40),
            st.sampled_from(["buy", "sell"]),
            st.integers(min_value=1, max_value=900),
        ),
        "POST /api/v1/solar/standing-orders/": st.fixed_dictionaries(
            {
                "meter": st.just(world["panels"]),
                "side": st.sampled_from(["buy", "sell"]),
                "quantity_wh": st.integers(min_value=1, max_value=2000),
                "limit_price": st.just("0.2"),
                "from_time": st.just("08:00"),
                "until_time": st.just("12:00"),
            }
        ),
        "POST /api/v1/challenges/": st.fixed_dictionaries(
            {
                "community": st.just(world["organized"]),
                "title": words,
                "brief": words,
                "space": words,
                "ideas_until": st.just(when(3)),
                "proposals_until": st.just(when(6)),
                "voting_until": st.just(when(9)),
                "budget": st.just("300"),
            }
        ),
        "POST /api/v1/challenges/{id}/proposals/": st.fixed_dictionaries(
            {"title": words, "description": words},
            optional={"cost": st.just("50"), "submit": st.booleans()},
        ),
        "POST /api/v1/challenges/{id}/ideas/": st.fixed_dictionaries({"text": words}),
        "POST /api/v1/challenges/{id}/tasks/": st.fixed_dictionaries(
            {"project": st.sampled_from(world["projects"]), "title": words, "hours": st.just("1")}
        ),
        "POST /api/v1/ledger/transfers/": st.fixed_dictionaries(
            {
                "community": st.just(world["home"]),
                "currency": st.sampled_from(["HOUR", "CREDIT"]),
                "to": st.just(world["owner"]),
                "amount": st.sampled_from(["0.50", "1", "2.25"]),
            }
        ),
        "POST /api/v1/flags/": st.fixed_dictionaries(
            {
                "target_type": st.just("tools.tool"),
                "target_id": st.sampled_from(world["tools"]),
                "reason": st.sampled_from(["spam", "other"]),
            }
        ),
        "POST /api/v1/solar/meters/{id}/tokens/": st.fixed_dictionaries({"label": words}),
        # A real picture, so the photo's delete (and use_after_free after it) is reached.
        "POST /api/v1/tools/{id}/photos/": st.fixed_dictionaries(
            {"image": st.just(png_upload(size=(64, 48)).read()), "alt_text": words}
        ),
        "POST /api/v1/communities/{community_pk}/exchanges/": st.fixed_dictionaries(
            {"key": st.sampled_from(["tools", "solar", "skills", "codesign"])}
        ),
    }


@pytest.fixture(scope="module")
def world(fuzz_world, django_db_blocker) -> Iterator[dict]:
    """The rows of the fuzz world that bodies name, by what they are."""
    with django_db_blocker.unblock():
        users = sorted(User.objects.values_list("pk", flat=True))
        owner = User.objects.get(email="owner@example.org")
        found = {
            "member": fuzz_world.pk,
            "owner": owner.pk,
            "home": Community.objects.get(slug="sunnyside").pk,
            "organized": Community.objects.get(slug="riverside").pk,
            "community_ids": sorted(Community.objects.values_list("pk", flat=True)),
            "categories": sorted(Category.objects.values_list("slug", flat=True)),
            "tools": sorted(Tool.objects.values_list("pk", flat=True)),
            # A tool of the owner's the member hasn't asked for yet (the world's have used up
            # the member's requests for today).
            "lendable": [ToolFactory(owner=owner, community=Community.objects.get(slug="sunnyside")).pk],
            "skills": sorted(Skill.objects.values_list("pk", flat=True)),
            "panels": Meter.objects.get(owner=fuzz_world, kind="both").pk,
            "projects": sorted(Project.objects.values_list("pk", flat=True)),
            # Periods already taken (a waitlist is for those), of the owner's tool.
            "taken": [
                {"tool": tool, "starts_at": start.isoformat(), "ends_at": end.isoformat()}
                for tool, start, end in Reservation.objects.filter(tool__owner=owner).values_list(
                    "tool", "starts_at", "ends_at"
                )
            ],
        }
        _references.update(
            community=[found["home"], found["organized"]],
            tool=found["tools"],
            meter=sorted(Meter.objects.values_list("pk", flat=True)),
            project=found["projects"],
            skill=found["skills"],
            offer=sorted(Offer.objects.values_list("pk", flat=True)),
            request=sorted(Request.objects.values_list("pk", flat=True)),
            to=users,
            helper=users,
            learner=users,
            target_id=sorted(fuzz._existing["ids"]),
        )
        _ids_by_collection.update(
            {
                "challenges": sorted(Challenge.objects.values_list("pk", flat=True)),
                "communities": found["community_ids"],
                "meters": sorted(Meter.objects.filter(owner=fuzz_world).values_list("pk", flat=True)),
                "tools": sorted(Tool.objects.filter(owner=fuzz_world).values_list("pk", flat=True)),
                "tasks": sorted(Task.objects.values_list("pk", flat=True)),
                "waitlist": sorted(WaitlistEntry.objects.values_list("pk", flat=True)),
                "proposals": sorted(Proposal.objects.values_list("pk", flat=True)),
            }
        )
    _valid_bodies.update(_valid(found))
    yield found
    _references.clear()
    _valid_bodies.clear()
    _ids_by_collection.clear()


def _links(document: dict) -> int:
    return sum(
        len(response.get("links", {}))
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
        for response in operation.get("responses", {}).values()
    )


@pytest.mark.django_db
def test_chains_of_calls_along_the_links_never_fail_the_api_or_its_schema(world, member_token, as_if_committed):
    seen: Counter[str] = Counter()
    followed: Counter[str] = Counter()
    answered: Counter[str] = Counter()

    class Scenario(schema.as_state_machine()):
        """One scenario in a savepoint, rolled back at its end; calls as the logged-in member,
        each committed as far as the app can tell (its on-commit callbacks run)."""

        def setup(self) -> None:
            self.savepoint = transaction.savepoint()
            seen["scenarios"] += 1

        def teardown(self) -> None:
            transaction.savepoint_rollback(self.savepoint)
            super().teardown()

        def step(self, input):
            if input.transition is not None and input.is_applied:
                followed[input.transition.id] += 1
            output = super().step(input)
            seen["operations"] += 1
            answered[f"{output.response.status_code // 100}xx"] += 1
            if input.transition is not None and input.is_applied and output.response.status_code < 300:
                seen["links_ok"] += 1
            return output

        def get_call_kwargs(self, case) -> dict:
            return {"headers": {"X-Session-Token": member_token}}

        def call(self, case, **kwargs):
            with as_if_committed():
                return super().call(case, **kwargs)

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None, recorder=self.recorder)

    Scenario.run(
        settings=settings(
            max_examples=MAX_SCENARIOS,
            stateful_step_count=MAX_STEPS,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
    )

    links = _links(schema.raw_schema)
    figures = (
        f"operations={seen['operations']} links={links} links_followed={sum(followed.values())} "
        f"distinct_links_followed={len(followed)} linked_calls_ok={seen['links_ok']} scenarios={seen['scenarios']} "
        f"steps<={MAX_STEPS} answers={dict(sorted(answered.items()))} server_errors={answered['5xx']} "
        "schema_violations=0"
    )
    reliability.record("schemathesis-stateful", lambda: figures)
    assert answered["5xx"] == 0
    # The chains ran: many different links were followed, and the calls they led to succeeded.
    assert len(followed) >= 12, f"only these links were ever followed: {sorted(followed)}"
    assert seen["links_ok"] >= 30, "links were followed but the linked calls rarely succeeded"
