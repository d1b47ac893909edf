"""Two neighbors swap an hour of help through the generated client only, against a live
server, as a mobile app would (issue 12): an offer and a request, the match, a proposed
session the other accepts from its ``actions``, both confirm the hours after it took
place, and both balances show the hours moved.
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from apps.skills.factories import SkillFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_neighbors_swap_an_hour_of_help_through_the_generated_client(
    live_server, generated_client, community, owner, member
):
    from p2p_client.api.ledger import ledger_accounts_list
    from p2p_client.api.skills import (
        skills_categories_list,
        skills_matches_list,
        skills_offers_create,
        skills_requests_create,
        skills_sessions_accept_create,
        skills_sessions_confirm_create,
        skills_sessions_create,
        skills_sessions_retrieve,
    )
    from p2p_client.models import (
        ConfirmInput,
        CurrencyEnum,
        MatchSideEnum,
        SeatStatusEnum,
        SessionCreateInput,
        SkillOfferInput,
        SkillRequestInput,
        SkillSession,
        SkillSessionActionsEnum,
        SkillSessionStatusEnum,
    )

    for person in (owner, member):
        person.profile.approx_latitude, person.profile.approx_longitude = Decimal("52.36000"), Decimal("4.90000")
        person.profile.save()
    olive = generated_client.signed_in(live_server.url, owner)
    max_ = generated_client.signed_in(live_server.url, member)

    truing = SkillFactory(slug="wheel-truing", name="Wheel truing")
    taxonomy = skills_categories_list.sync(client=max_)
    [skill_id] = [skill.id for category in taxonomy for skill in category.skills if skill.name == "Wheel truing"]
    assert skill_id == truing.pk
    today = timezone.localdate()
    skills_offers_create.sync(
        client=olive, body=SkillOfferInput(community=community.pk, title="I fix bikes", skills=[skill_id])
    )
    skills_requests_create.sync(
        client=max_,
        body=SkillRequestInput(
            community=community.pk,
            title="My gears slip",
            skills=[skill_id],
            wanted_from=today,
            wanted_until=today + dt.timedelta(days=14),
        ),
    )
    [match] = skills_matches_list.sync(client=max_).results
    assert match.my_side is MatchSideEnum.REQUESTER and match.helper.display_name == "Olive Owner"

    starts_at = (timezone.now() + timedelta(hours=2)).replace(microsecond=0)
    proposal = SessionCreateInput(
        community=community.pk,
        title="Gears",
        helper=owner.pk,
        learner=member.pk,
        starts_at=starts_at,
        planned_hours="1.5",
        place="At my place",
    )
    session = skills_sessions_create.sync(client=max_, body=proposal)
    assert isinstance(session, SkillSession), session
    assert session.status is SkillSessionStatusEnum.PROPOSED
    assert SkillSessionActionsEnum.ACCEPT not in session.actions  # Max proposed: Olive agrees
    offered = skills_sessions_retrieve.sync(client=olive, id=session.id)
    assert SkillSessionActionsEnum.ACCEPT in offered.actions
    booked = skills_sessions_accept_create.sync(client=olive, id=session.id)
    assert booked.status is SkillSessionStatusEnum.SCHEDULED

    with time_machine.travel(starts_at + timedelta(hours=2)):
        skills_sessions_confirm_create.sync(client=max_, id=session.id, body=ConfirmInput(hours="1.5"))
        done = skills_sessions_confirm_create.sync(client=olive, id=session.id, body=ConfirmInput(hours="1.5"))
    [seat] = done.seats
    assert seat.status is SeatStatusEnum.COMPLETED and Decimal(seat.hours) == Decimal("1.5")

    balances = {
        name: Decimal(account.balance)
        for name, client in (("olive", olive), ("max", max_))
        for account in ledger_accounts_list.sync(client=client, currency=CurrencyEnum.HOUR).results
    }
    assert balances == {"olive": Decimal("1.5"), "max": Decimal("-1.5")}
