"""What deleting an account does on the federation (found by ``apps.privacy`` at start-up).

Cancelled, through the federation's services (the other community is told): the
member's cross-community requests and accepted loans not picked up, as borrower (as
lender, the tools eraser cancels the local reservation, and that change is sent on).
Erased: their opt-in (they stop appearing to neighbour communities) and the messages
they wrote on cross-community loans. What happened stays, under their pseudonym.
"""

from __future__ import annotations

from apps.privacy.deletion import attempt
from apps.privacy.registry import register_eraser

from .models import FederatedMember, RemoteExchange

X = RemoteExchange.Status


def cancel(user) -> int:
    from .services import remote_exchange_cancel

    done = 0
    open_ones = RemoteExchange.objects.filter(
        member=user, side=RemoteExchange.Side.BORROWER, status__in=(X.OFFERED, X.ACCEPTED)
    ).order_by("pk")
    for exchange in open_ones:
        done += attempt(lambda x=exchange: remote_exchange_cancel(exchange=x, actor=user))
    return done


def erase(user, pseudonym: str) -> None:
    FederatedMember.objects.filter(user=user).delete()
    RemoteExchange.objects.filter(member=user, side=RemoteExchange.Side.BORROWER).update(message="")


register_eraser("federation", cancel=cancel, erase=erase, order=45)
