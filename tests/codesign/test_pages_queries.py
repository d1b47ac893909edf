"""The co-design list pages cost a fixed number of queries however many rows they show
(tests/querycount.py): the challenge list, the gallery of designs, the ballot and the
project board; and the community page's section."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.codesign import services
from apps.codesign.models import Challenge, Project, Proposal, ProposalPhoto, Task
from apps.codesign.views.community import community_challenges
from apps.peers import sections
from apps.peers.sections import CommunitySection
from tests.querycount import assert_queries_do_not_grow

from .test_pages import to_proposals, to_voting, words

pytestmark = pytest.mark.django_db


def counted(client, url: str):
    client.get(url)
    return lambda: client.get(url)


def test_the_challenge_list_costs_the_same_with_thirty_challenges(web_as, community, organizer, neighbors):
    n = count(1)

    def add(rows: int) -> None:
        now = timezone.now()
        for _ in range(rows):
            challenge = services.challenge_create(
                community=community, actor=organizer, title=f"Space {next(n)}", brief="Brief.", space="Here",
                ideas_until=now + timedelta(days=1), proposals_until=now + timedelta(days=2),
                voting_until=now + timedelta(days=3),
            )  # fmt: skip
            services.idea_post(challenge=challenge, author=neighbors[0], text="An idea.")

    assert_queries_do_not_grow(counted(web_as(neighbors[1]), reverse("codesign:list")), add, large=20)


def test_the_gallery_costs_the_same_with_thirty_designs(web_as, organizer, neighbors, challenge):
    challenge = to_proposals(challenge, organizer)
    n = count(1)
    authors = neighbors

    def add(rows: int) -> None:
        for _ in range(rows):
            i = next(n)
            proposal = Proposal.objects.create(
                challenge=challenge, author=authors[i % 3], title=f"Design {i}", description="D.",
                status=Proposal.Status.SUBMITTED, submitted_at=timezone.now(),
            )  # fmt: skip
            proposal.coauthors.add(authors[(i + 1) % 3])
            ProposalPhoto.objects.create(proposal=proposal, image="codesign/x.jpg", alt_text=f"Picture {i}")

    url = reverse("codesign:proposals", args=[challenge.pk])
    assert_queries_do_not_grow(counted(web_as(neighbors[0]), url), add, large=20)


def test_the_ballot_costs_the_same_with_twenty_designs(web_as, organizer, neighbors, challenge):
    challenge, bench, _ = to_voting(challenge, organizer, neighbors)
    services.vote_set(proposal=bench, voter=neighbors[2], dots=2)
    n = count(1)

    def add(rows: int) -> None:
        for _ in range(rows):
            Proposal.objects.create(
                challenge=challenge, author=neighbors[0], title=f"Design {next(n)}", description="D.",
                status=Proposal.Status.ACCEPTED, submitted_at=timezone.now(), answer_published_at=timezone.now(),
            )  # fmt: skip

    url = reverse("codesign:ballot", args=[challenge.pk])
    assert_queries_do_not_grow(counted(web_as(neighbors[2]), url), add, large=20)


def test_the_board_costs_the_same_with_twenty_tasks(web_as, organizer, neighbors, challenge):
    challenge, bench, _ = to_voting(challenge, organizer, neighbors)
    services.vote_set(proposal=bench, voter=neighbors[0], dots=2)
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="close_voting")
    project = Project.objects.get()

    def add(rows: int) -> None:
        for _ in range(rows):
            task = Task.objects.create(project=project, title="Task", hours=Decimal("1"), places=3)
            services.task_join(task=task, member=neighbors[1])
            services.task_join(task=task, member=neighbors[2])

    url = reverse("codesign:board", args=[challenge.pk])
    assert_queries_do_not_grow(counted(web_as(organizer), url), add, large=20)


def test_the_community_page_shows_open_challenges_once_the_section_is_registered(
    web_as, community, neighbors, challenge, monkeypatch
):
    """With the registration proposed for ``CodesignConfig.ready()`` (set here for this test only)."""
    section = CommunitySection(
        key="codesign",
        template="codesign/_community_section.html",
        first_step="codesign/_community_first_step.html",
        load=community_challenges,
        order=40,
    )
    monkeypatch.setitem(sections._SECTIONS, "codesign", section)
    services.idea_post(challenge=challenge, author=neighbors[0], text="Shade.")
    page = words(web_as(neighbors[1]).get(reverse("peers:community", args=[community.slug])))
    assert "Design challenges here" in page
    assert "A bench for the courtyard · Ideas · 1 idea, 0 designs" in page
    Challenge.objects.filter(pk=challenge.pk).update(phase=Challenge.Phase.DONE)
    assert community_challenges(user=neighbors[1], community=community, limit=4) == []
