"""The co-design API's build (/api/v1/challenges/{id}/tasks/, /api/v1/tasks/{id}/join/,
/api/v1/volunteers/{id}/...): organizers add tasks, neighbors join, an organizer confirms
and the hours are paid once from the co-design fund."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.codesign import services
from apps.codesign.models import Project, Task, Volunteer
from apps.ledger.models import Transfer
from apps.ledger.services import account_set_limit
from apps.peers.factories import MembershipFactory, OrganizerMembershipFactory
from tests.querycount import assert_queries_do_not_grow

from .conftest import hours
from .test_api import url, voting_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(challenge, organizer, neighbors) -> Project:
    """The challenge being built: Ana's design won."""
    challenge, (design,) = voting_with(challenge, organizer, neighbors[:1])
    services.vote_set(proposal=design, voter=neighbors[1], dots=2)
    services.challenge_step(challenge=challenge, actor=organizer, step="close_voting")
    fund = services.fund(challenge=challenge, currency="HOUR")
    account_set_limit(account=fund, actor=organizer, limit="-40", reason="The co-design fund pays volunteers.")
    return Project.objects.get(proposal=design)


@pytest.fixture
def task(project, organizer) -> Task:
    return services.task_create(project=project, actor=organizer, title="Sand the planks", hours=Decimal("2"), places=1)


def test_an_organizer_adds_a_task_and_members_see_it(api_as, organizer, neighbors, project):
    created = api_as(organizer).post(
        url(project.challenge, "tasks/"),
        {"project": project.pk, "title": "Paint the bench", "hours": "1.50", "places": 3, "date": "2030-05-01"},
    )

    assert created.status_code == 201, created.json()
    task = Task.objects.get(title="Paint the bench")
    assert (task.hours, task.places, str(task.date)) == (Decimal("1.50"), 3, "2030-05-01")
    listed = api_as(neighbors[2]).get(url(project.challenge, "tasks/")).json()["results"]
    assert [(t["title"], t["places_left"], t["proposal_title"]) for t in listed] == [("Paint the bench", 3, "Design 1")]


def test_a_member_cannot_add_a_task_nor_to_another_challenges_project(api_as, organizer, neighbors, project):
    member = api_as(neighbors[0]).post(
        url(project.challenge, "tasks/"), {"project": project.pk, "title": "X", "hours": "1"}
    )
    unknown = api_as(organizer).post(url(project.challenge, "tasks/"), {"project": 10**9, "title": "X", "hours": "1"})

    assert member.status_code == 409 and member.json()["code"] == "not_organizer"
    assert unknown.status_code == 400 and "project" in unknown.json()
    assert not Task.objects.exists()


def test_a_neighbor_joins_a_task_once_and_a_full_task_refuses_more(api_as, neighbors, task):
    joined = api_as(neighbors[2]).post(f"/api/v1/tasks/{task.pk}/join/")
    again = api_as(neighbors[2]).post(f"/api/v1/tasks/{task.pk}/join/")
    full = api_as(neighbors[1]).post(f"/api/v1/tasks/{task.pk}/join/")

    assert joined.status_code == 201, joined.json()
    assert joined.json()["status"] == "joined" and joined.json()["actions"] == ["leave"]
    assert again.status_code == 409 and again.json()["code"] == "already_joined"
    assert full.status_code == 409 and full.json()["code"] == "full"
    assert list(Volunteer.objects.values_list("member_id", flat=True)) == [neighbors[2].pk]
    listed = api_as(neighbors[1]).get(url(task.project.challenge, "tasks/")).json()["results"]
    assert [v["member"]["display_name"] for v in listed[0]["volunteers"]] == ["Cy"]


def test_a_confirmation_pays_the_hours_once(api_as, community, organizer, neighbors, task):
    volunteer = services.task_join(task=task, member=neighbors[2])
    assert api_as(organizer).get(f"/api/v1/volunteers/{volunteer.pk}/").json()["actions"] == ["confirm"]

    first = api_as(organizer).post(f"/api/v1/volunteers/{volunteer.pk}/confirm/")
    second = api_as(organizer).post(f"/api/v1/volunteers/{volunteer.pk}/confirm/")

    assert first.status_code == 200 and first.json()["status"] == "confirmed"
    assert second.status_code == 409 and second.json()["code"] == "illegal_transition"
    assert hours(neighbors[2], community) == Decimal("2.00")
    assert Transfer.objects.filter(idempotency_key=f"codesign-volunteer-{volunteer.pk}").count() == 1


def test_only_an_organizer_confirms_and_never_their_own_hours(api_as, community, organizer, neighbors, task):
    volunteer = services.task_join(task=task, member=neighbors[2])
    by_member = api_as(neighbors[0]).post(f"/api/v1/volunteers/{volunteer.pk}/confirm/")
    Task.objects.filter(pk=task.pk).update(places=2)
    own = services.task_join(task=task, member=organizer)
    by_self = api_as(organizer).post(f"/api/v1/volunteers/{own.pk}/confirm/")

    assert by_member.status_code == 409 and by_member.json()["code"] == "forbidden"
    assert by_self.status_code == 409 and by_self.json()["code"] == "self_confirm"
    assert not Volunteer.objects.filter(status="confirmed").exists()
    assert hours(neighbors[2], community) == Decimal("0")


def test_a_volunteer_leaves_and_can_join_again(api_as, neighbors, task):
    volunteer = services.task_join(task=task, member=neighbors[2])

    left = api_as(neighbors[2]).post(f"/api/v1/volunteers/{volunteer.pk}/leave/")
    by_other = api_as(neighbors[1]).post(f"/api/v1/volunteers/{volunteer.pk}/leave/")
    back = api_as(neighbors[2]).post(f"/api/v1/tasks/{task.pk}/join/")

    assert left.status_code == 200 and left.json()["status"] == "left"
    assert by_other.status_code == 409 and by_other.json()["code"] == "forbidden"
    assert back.status_code == 201 and Volunteer.objects.get(pk=volunteer.pk).status == "joined"


def test_after_the_build_nobody_joins_or_confirms(api_as, organizer, neighbors, task):
    volunteer = services.task_join(task=task, member=neighbors[2])
    services.challenge_step(challenge=task.project.challenge, actor=organizer, step="finish")

    join = api_as(neighbors[1]).post(f"/api/v1/tasks/{task.pk}/join/")
    confirm = api_as(organizer).post(f"/api/v1/volunteers/{volunteer.pk}/confirm/")

    assert join.status_code == 409 and join.json()["code"] == "wrong_phase"
    assert confirm.status_code == 409 and confirm.json()["code"] == "wrong_phase"
    assert Volunteer.objects.get(pk=volunteer.pk).status == "joined"


def test_outsiders_get_not_found_and_anonymous_callers_401(api_as, stranger, neighbors, task):
    volunteer = services.task_join(task=task, member=neighbors[2])

    assert api_as(stranger).get(url(task.project.challenge, "tasks/")).status_code == 404
    assert api_as(stranger).post(f"/api/v1/tasks/{task.pk}/join/").status_code == 404
    assert api_as(stranger).get(f"/api/v1/volunteers/{volunteer.pk}/").status_code == 404
    assert APIClient().post(f"/api/v1/tasks/{task.pk}/join/").status_code == 401
    assert Volunteer.objects.count() == 1


def test_the_task_list_runs_the_same_queries_for_one_or_thirty(api_as, community, organizer, neighbors, project):
    joiners = [MembershipFactory(community=community).user for _ in range(2)]
    OrganizerMembershipFactory(community=community)

    def add(n):
        for i in range(n):
            task = services.task_create(project=project, actor=organizer, title=f"Task {i}", hours="1", places=5)
            for user in joiners:
                services.task_join(task=task, member=user)

    count = assert_queries_do_not_grow(lambda: api_as(neighbors[0]).get(url(project.challenge, "tasks/")), add)
    assert count <= 6


def test_an_organizer_spends_from_the_budget_once_per_key_and_never_beyond_it(api_as, organizer, neighbors, project):
    challenge = project.challenge
    fund = services.fund(challenge=challenge, currency="CREDIT")
    account_set_limit(account=fund, actor=organizer, limit="-300", reason="The courtyard's budget.")
    ana = neighbors[0]
    body = {"recipient": ana.pk, "amount": "120.00", "memo": "Oak planks", "idempotency_key": "planks-1"}

    first = api_as(organizer).post(url(challenge, "spend/"), body, format="json")
    again = api_as(organizer).post(url(challenge, "spend/"), body, format="json")
    over = api_as(organizer).post(url(challenge, "spend/"), {**body, "amount": "200", "idempotency_key": "x"},
                                  format="json")  # fmt: skip
    member = api_as(ana).post(url(challenge, "spend/"), {**body, "idempotency_key": "y"}, format="json")

    assert first.status_code == 201 and first.json()["budget_left"] == "180.00"
    assert again.status_code == 201 and again.json()["transfer"] == first.json()["transfer"]
    assert (over.status_code, over.json()["code"], over.json()["left"]) == (409, "over_budget", "180.00")
    assert (member.status_code, member.json()["code"]) == (409, "not_organizer")
    challenge.refresh_from_db()
    assert challenge.spent == Decimal("120.00")


def test_the_author_names_a_co_author_and_nobody_else_can(api_as, organizer, neighbors, challenge):
    ana, bo, cy = neighbors
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="open_proposals")
    proposal = services.proposal_create(challenge=challenge, author=ana, title="Oak bench", description="Oak.")
    path = f"/api/v1/proposals/{proposal.pk}/coauthors/"

    named = api_as(ana).post(path, {"coauthor": bo.pk}, format="json")
    by_other = api_as(bo).post(path, {"coauthor": cy.pk}, format="json")
    stranger = api_as(ana).post(path, {"coauthor": 10**9}, format="json")

    assert named.status_code == 200 and [p["id"] for p in named.json()["coauthors"]] == [bo.pk]
    assert (by_other.status_code, by_other.json()["code"]) == (409, "forbidden")
    assert stranger.status_code == 400 and "coauthor" in stranger.json()
    assert list(proposal.coauthors.values_list("pk", flat=True)) == [bo.pk]
