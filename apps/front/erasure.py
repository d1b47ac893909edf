"""What deleting an account does on the front door (found by ``apps.privacy``): the
suggestions made for the member are deleted. Suggestions made for others that pointed at
the member's listings drop out by themselves (their target is gone or closed)."""

from __future__ import annotations

from apps.privacy.registry import register_eraser

from .models import Suggestion


def erase(user, pseudonym: str) -> None:
    Suggestion.objects.filter(user=user).delete()


register_eraser("front", erase=erase, order=60)
