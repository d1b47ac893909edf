"""Browser form for a review: shape only; the rules live in services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from .models import MAX_RATING, MIN_RATING
from .services import COMMENT_MAX_LENGTH

RATING_LABELS = {
    5: gettext_lazy("5 stars: excellent"),
    4: gettext_lazy("4 stars: good"),
    3: gettext_lazy("3 stars: okay"),
    2: gettext_lazy("2 stars: poor"),
    1: gettext_lazy("1 star: bad"),
}


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(
        coerce=int,
        choices=[(n, RATING_LABELS[n]) for n in range(MAX_RATING, MIN_RATING - 1, -1)],
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose how many stars to give.")},
    )
    comment = forms.CharField(
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Visible to everyone once both of you have reviewed, or 14 days after the exchange."),
    )
