"""What deleting an account does to notifications (found by ``apps.privacy``).

The member's own notifications and preferences are deleted. Other members' notifications
that name them (their plain text and the values of their translatable message) read the
pseudonym instead; the deletion's final sweep catches any other mention.
"""

from __future__ import annotations

from django.db.models import Q

from apps.peers.models import Profile
from apps.privacy.deletion import rewrite_names
from apps.privacy.registry import register_eraser

from .models import Notification, Preference


def erase(user, pseudonym: str) -> None:
    Notification.objects.filter(recipient=user).delete()
    Preference.objects.filter(user=user).delete()
    name = Profile.objects.filter(user=user).values_list("display_name", flat=True).first() or ""
    naming = Q(actor=user)
    if len(name) >= 3:
        naming |= Q(text__icontains=name)
    rewrite_names(
        Notification.objects.filter(naming), fields=("text", "message"), needles=[name], replacement=pseudonym
    )


register_eraser("notifications", erase=erase, order=30)
