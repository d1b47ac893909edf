"""What deleting an account does to reviews (found by ``apps.privacy``): they stay.

Reviews the member wrote about others keep their rating and text (they are the other
person's record) and show the pseudonym as their author; reviews about the member stay
too. Names in their text are replaced by the pseudonym by the deletion's final sweep.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from apps.privacy.deletion import register_preview
from apps.privacy.registry import register_eraser

from .models import Review


def preview(user) -> dict[str, list[str]]:
    written = Review.objects.filter(author=user).count()
    if not written:
        return {"cancelled": [], "kept": []}
    return {
        "cancelled": [],
        "kept": [
            _("The reviews you wrote about others (%(n)s), with their text, under your pseudonym") % {"n": written}
        ],
    }


register_eraser("reputation", order=20)
register_preview("reputation", preview)
