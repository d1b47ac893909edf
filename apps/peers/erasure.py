"""What deleting an account does in the peer core (found by ``apps.privacy``); runs last.

Cancelled: requests to join a community still waiting for an organizer (withdrawn).
Erased: the messages they wrote with requests to join, and their memberships (they leave
every community; ``apps.privacy.deletion`` refuses first if they are the last organizer
of a community others still belong to). The profile and the account itself are erased by
``apps.privacy.deletion`` after every app's eraser has run.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from apps.privacy.deletion import attempt, register_preview
from apps.privacy.registry import register_eraser

from .models import JoinRequest, Membership


def cancel(user) -> int:
    from . import services

    done = 0
    for join_request in JoinRequest.objects.filter(user=user, status=JoinRequest.Status.REQUESTED):
        done += attempt(lambda j=join_request: services.join_request_withdraw(join_request=j, actor=user))
    return done


def erase(user, pseudonym: str) -> None:
    JoinRequest.objects.filter(user=user).update(message="")
    Membership.objects.filter(user=user).delete()


def preview(user) -> dict[str, list[str]]:
    cancelled = []
    waiting = JoinRequest.objects.filter(user=user, status=JoinRequest.Status.REQUESTED).select_related("community")
    for join_request in waiting:
        cancelled.append(_("Your request to join %(name)s") % {"name": join_request.community.name})
    names = list(Membership.objects.filter(user=user).values_list("community__name", flat=True))
    if names:
        cancelled.append(_("Your membership of %(names)s") % {"names": ", ".join(names)})
    return {"cancelled": cancelled, "kept": []}


register_eraser("peers", cancel=cancel, erase=erase, order=900)
register_preview("peers", preview)
