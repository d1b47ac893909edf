"""What deleting an account does to apps/privacy's own records: the notes of what
"Move house" brought in (addresses of listings on the member's old server) go. The
listings themselves are the exchanges' to erase."""

from __future__ import annotations

from apps.privacy.registry import register_eraser

from .models import MovedItem


def erase(user, pseudonym: str) -> None:
    MovedItem.objects.filter(user=user).delete()


register_eraser("privacy", erase=erase, order=60)
