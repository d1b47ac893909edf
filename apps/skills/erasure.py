"""What deleting an account does in the skill swap (found by ``apps.privacy`` at start-up).

Cancelled, through the session services (the other people are told as usual): sessions
not yet held that the member gives (every learner is told) or takes (one-to-one: called
off; group: their place given up), and their open offers and requests. Erased: their
offers and requests (deleted, with their matches; sessions keep their own title), their
notes on sessions' timelines and the meeting places of the sessions they gave. Sessions
that took place, the hours that moved and their reviews stay.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.privacy.deletion import attempt, register_preview
from apps.privacy.registry import register_eraser

from .models import MatchNoticeQuota, Offer, Request, Seat, Session, SessionEvent

S = Session.Status


def _sessions_to_call_off(user):
    """Sessions not yet held in which the member gives help or holds a booked place."""
    return (
        Session.objects.filter(status__in=(S.PROPOSED, S.SCHEDULED), starts_at__gt=timezone.now())
        .filter(Q(helper=user) | Q(seats__learner=user, seats__status=Seat.Status.BOOKED))
        .distinct()
        .select_related("helper__profile")
        .order_by("starts_at", "pk")
    )


def cancel(user) -> int:
    from . import services

    done = 0
    for session in _sessions_to_call_off(user):
        if session.helper_id == user.pk:
            done += attempt(lambda s=session: services.session_cancel(session=s, actor=user))
        else:
            done += attempt(lambda s=session: services.session_withdraw(session=s, actor=user))
    for offer in Offer.objects.filter(member=user, status=Offer.Status.OPEN):
        done += attempt(lambda o=offer: services.offer_close(offer=o, actor=user))
    for request in Request.objects.filter(member=user, status=Request.Status.OPEN):
        done += attempt(lambda r=request: services.request_close(request=r, actor=user))
    return done


def erase(user, pseudonym: str) -> None:
    Offer.objects.filter(member=user).delete()
    Request.objects.filter(member=user).delete()
    MatchNoticeQuota.objects.filter(user=user).delete()
    SessionEvent.objects.filter(actor=user).update(note="")
    Session.objects.filter(Q(helper=user) | Q(proposed_by=user)).update(place="")


def preview(user) -> dict[str, list[str]]:
    cancelled, kept = [], []
    for session in _sessions_to_call_off(user):
        cancelled.append(_("The session \u201c%(title)s\u201d") % {"title": session.title})
    offers = Offer.objects.filter(member=user, status=Offer.Status.OPEN).count()
    requests = Request.objects.filter(member=user, status=Request.Status.OPEN).count()
    if offers or requests:
        cancelled.append(_("Your open skill offers (%(o)s) and requests (%(r)s)") % {"o": offers, "r": requests})
    held = Seat.objects.filter(Q(learner=user) | Q(session__helper=user), status=Seat.Status.COMPLETED).count()
    if held:
        kept.append(_("Sessions that took place (%(n)s) and the hours that moved") % {"n": held})
    return {"cancelled": cancelled, "kept": kept}


register_eraser("skills", cancel=cancel, erase=erase, order=50)
register_preview("skills", preview)
