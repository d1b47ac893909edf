"""Session rules that only mutation testing showed untested (`make mutate`, issue 10
item 16): each test here kills mutants that every other test let survive."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.notifications.models import Notification
from apps.skills import services
from apps.skills.factories import OfferFactory, RequestFactory, SeatFactory, SessionFactory
from apps.skills.models import Offer, Request, Seat, Session

pytestmark = pytest.mark.django_db


def propose(community, helper, learner, **kw) -> Session:
    return services.session_propose(
        proposer=kw.pop("proposer", learner),
        helper=helper,
        learner=learner,
        community=community,
        title=kw.pop("title", "Fix the gears"),
        starts_at=timezone.now() + timedelta(days=1),
        planned_hours=Decimal("2"),
        place="Olive's garage",
        **kw,
    )


def opens(notice: Notification, session: Session) -> bool:
    return (notice.target_type, notice.target_id) == (ContentType.objects.get_for_model(Session), session.pk)


@pytest.mark.parametrize("model", [Request, Offer])
def test_a_session_is_not_proposed_for_a_hidden_listing(community, owner, member, model):
    field = model.__name__.lower()
    listing = (
        RequestFactory(member=member, community=community)
        if model is Request
        else OfferFactory(member=owner, community=community)
    )
    model.objects.filter(pk=listing.pk).update(is_hidden=True)
    listing.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        propose(community, owner, member, **{field: listing})
    assert list(refused.value.message_dict) == [field]
    assert not Session.objects.exists()


def test_the_proposal_notice_names_the_proposer_and_opens_the_session(community, owner, member):
    session = propose(community, owner, member)
    notice = Notification.objects.get(recipient=owner, kind="skills.session")
    assert notice.actor == member and opens(notice, session)


def test_agreeing_to_one_proposal_schedules_only_that_one_and_tells_the_proposer(community, owner, member):
    first = propose(community, owner, member, title="Gears")
    second = propose(community, owner, member, title="Brakes")
    services.session_accept(session=first, actor=owner)
    assert Session.objects.get(pk=first.pk).status == Session.Status.SCHEDULED
    assert Session.objects.get(pk=second.pk).status == Session.Status.PROPOSED
    notice = Notification.objects.filter(recipient=member, kind="skills.session").latest("id")
    assert notice.actor == owner and opens(notice, first)


def test_a_learner_joins_the_group_session_they_chose_among_several(community, owner, member):
    sessions = [
        services.group_session_create(
            helper=owner,
            community=community,
            title=title,
            starts_at=timezone.now() + timedelta(days=1),
            planned_hours=Decimal("1"),
            capacity=3,
            place="The library",
        )
        for title in ("Repair café", "Sewing circle")
    ]
    seat = services.seat_join(session=sessions[1], learner=member)
    assert seat.session_id == sessions[1].pk
    assert not sessions[0].seats.exists()


def test_settling_a_dispute_completes_only_that_session(community, owner, member, organizer):
    other = SessionFactory(helper=owner, community=community, proposed_by=member, status=Session.Status.SCHEDULED)
    SeatFactory(session=other, learner=member)
    session = SessionFactory(
        helper=owner,
        community=community,
        proposed_by=member,
        status=Session.Status.SCHEDULED,
        starts_at=timezone.now() - timedelta(hours=3),
    )
    seat = SeatFactory(session=session, learner=member)
    services.seat_dispute(seat=seat, actor=member, reason="It did not happen")
    services.dispute_settle(seat=seat, actor=organizer, hours="0", reason="Nothing took place")
    assert Session.objects.get(pk=session.pk).status == Session.Status.COMPLETED
    assert Session.objects.get(pk=other.pk).status == Session.Status.SCHEDULED
    assert Seat.objects.get(pk=seat.pk).status == Seat.Status.COMPLETED
