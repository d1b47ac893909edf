"""Two neighbors borrow and lend a tool through the generated client only, against a live
server, as a mobile app would (issue 12): find a tool near me and free, request it, a
typed 409 for a taken window, the owner approves from the ``actions`` the API lists,
pickup, return, and a review each way.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.tools.factories import ToolFactory
from apps.tools.models import Reservation

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_neighbors_lend_and_borrow_a_tool_through_the_generated_client(
    live_server, generated_client, community, owner, member, organizer
):
    from p2p_client.api.reservations import (
        reservations_approve_create,
        reservations_create,
        reservations_list,
        reservations_pickup_create,
        reservations_retrieve,
        reservations_return_create,
    )
    from p2p_client.api.reviews import reviews_create
    from p2p_client.api.tools import tools_categories_list, tools_list
    from p2p_client.models import (
        ExchangeTypeEnum,
        ReservationActionsEnum,
        ReservationCreateInput,
        ReservationsCreateConflict,
        ReservationsCreateConflictCode,
        ReservationsRoleEnum,
        ReservationStatusEnum,
        ReviewCreateInput,
    )
    from p2p_client.models import (
        Reservation as ReservationModel,
    )

    for person in (owner, member):
        person.profile.approx_latitude, person.profile.approx_longitude = Decimal("52.36000"), Decimal("4.90000")
        person.profile.save()
    drill = ToolFactory(owner=owner, community=community, title="Cordless drill", min_notice_hours=0)
    olive = generated_client.signed_in(live_server.url, owner)
    max_ = generated_client.signed_in(live_server.url, member)
    nina = generated_client.signed_in(live_server.url, organizer)
    start = (timezone.now() + timedelta(hours=1)).replace(microsecond=0)
    end = start + timedelta(days=1)

    # Max looks for a tool near him that is free then, by category.
    categories = {category.slug for category in tools_categories_list.sync(client=max_)}
    assert drill.category.slug in categories
    found = tools_list.sync(
        client=max_, lat=52.36, lng=4.90, radius_km=2.0, available_from=start, available_to=end
    ).results
    assert [tool.id for tool in found] == [drill.pk]

    # He asks for it; Nina, a moment later, gets a typed refusal naming the next free start.
    asked = reservations_create.sync(
        client=max_, body=ReservationCreateInput(tool=drill.pk, starts_at=start, ends_at=end)
    )
    assert isinstance(asked, ReservationModel) and asked.status is ReservationStatusEnum.REQUESTED
    assert asked.actions == [ReservationActionsEnum.CANCEL]
    taken = reservations_create.sync(
        client=nina, body=ReservationCreateInput(tool=drill.pk, starts_at=start, ends_at=end)
    )
    assert isinstance(taken, ReservationsCreateConflict)
    assert taken.code is ReservationsCreateConflictCode.CONFLICT
    assert taken.next_free_start >= end and taken.next_free_start.tzinfo is not None

    # Olive sees what she may do, and does it; then the handoff and the return.
    mine = reservations_list.sync(
        client=olive, role=ReservationsRoleEnum.LENDER, status=ReservationStatusEnum.REQUESTED
    )
    [request] = mine.results
    assert request.actions == [ReservationActionsEnum.APPROVE, ReservationActionsEnum.DECLINE]
    approved = reservations_approve_create.sync(client=olive, id=request.id)
    assert approved.status is ReservationStatusEnum.APPROVED
    assert ReservationActionsEnum.PICKUP in reservations_retrieve.sync(client=max_, id=request.id).actions
    assert reservations_pickup_create.sync(client=max_, id=request.id).status is ReservationStatusEnum.PICKED_UP
    returned = reservations_return_create.sync(client=olive, id=request.id)
    assert returned.status is ReservationStatusEnum.RETURNED
    # What is left to the owner: the condition at return (and a damage report).
    assert returned.actions == [ReservationActionsEnum.REPORT_RETURN, ReservationActionsEnum.REPORT_DAMAGE]

    # Each reviews the other.
    for client, rating in ((olive, 5), (max_, 4)):
        review = reviews_create.sync(
            client=client,
            body=ReviewCreateInput(
                exchange_type=ExchangeTypeEnum.TOOLS_RESERVATION, exchange_id=request.id, rating=rating
            ),
        )
        assert review.rating == rating
    assert Reservation.objects.get().status == Reservation.Status.RETURNED
