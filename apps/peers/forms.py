"""Browser forms for identity and communities: shape only; rules live in services."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from .models import Profile

MAX_AVATAR_BYTES = 2 * 1024 * 1024


class ProfileForm(forms.ModelForm):
    latitude = forms.DecimalField(
        required=False,
        max_digits=9,
        decimal_places=6,
        min_value=Decimal("-90"),
        max_value=Decimal("90"),
        help_text="Stored rounded to about 500 m; others see only the rounded point.",
    )
    longitude = forms.DecimalField(
        required=False,
        max_digits=10,
        decimal_places=6,
        min_value=Decimal("-180"),
        max_value=Decimal("180"),
    )
    clear_location = forms.BooleanField(required=False, label="Forget my location")

    class Meta:
        model = Profile
        fields = ("display_name", "bio", "avatar", "neighborhood", "exact_address", "phone")
        help_texts = {
            "exact_address": "Private: shown only to the other party of an approved exchange.",
            "phone": "Private: shown only to the other party of an approved exchange.",
        }
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}

    def clean_avatar(self):
        avatar = self.cleaned_data.get("avatar")
        if avatar and getattr(avatar, "size", 0) > MAX_AVATAR_BYTES:
            raise forms.ValidationError("The picture is too large: at most 2 MB, please.")
        return avatar

    def clean(self):
        cleaned = super().clean()
        lat, lng = cleaned.get("latitude"), cleaned.get("longitude")
        if (lat is None) != (lng is None) and not self.errors.get("latitude") and not self.errors.get("longitude"):
            raise forms.ValidationError("Give both latitude and longitude, or neither.")
        return cleaned
