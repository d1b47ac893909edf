"""Browser forms for identity and communities: shape only; rules live in services."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy

from .models import Profile

MAX_AVATAR_BYTES = 2 * 1024 * 1024


class JoinRequestForm(forms.Form):
    """Asking to join a community whose organizers approve each newcomer."""

    message = forms.CharField(
        required=False,
        max_length=1000,
        label=gettext_lazy("A few words to the organizers"),
        help_text=gettext_lazy("Optional. For example, where you live or how you heard of the community."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ProfileForm(forms.ModelForm):
    # A place is two numbers on a map site; the labels say which is which in plain words
    # ("Use my location", static/js/place-picker.js, can fill both).
    latitude = forms.DecimalField(
        required=False,
        max_digits=9,
        decimal_places=6,
        min_value=Decimal("-90"),
        max_value=Decimal("90"),
        label=gettext_lazy("North-south position (latitude)"),
        help_text=gettext_lazy("Stored rounded to about 500 m; others see only the rounded point."),
    )
    longitude = forms.DecimalField(
        required=False,
        max_digits=10,
        decimal_places=6,
        min_value=Decimal("-180"),
        max_value=Decimal("180"),
        label=gettext_lazy("East-west position (longitude)"),
    )
    clear_location = forms.BooleanField(required=False, label=gettext_lazy("Forget my location"))

    class Meta:
        model = Profile
        fields = ("display_name", "bio", "avatar", "neighborhood", "exact_address", "phone", "language")
        help_texts = {
            "exact_address": gettext_lazy("Private: shown only to the other party of an approved exchange."),
            "phone": gettext_lazy("Private: shown only to the other party of an approved exchange."),
            "language": gettext_lazy("The language of pages, emails and notifications; empty: the browser's."),
        }
        labels = {
            "display_name": gettext_lazy("Display name"),
            "bio": gettext_lazy("Bio"),
            "avatar": gettext_lazy("Avatar"),
            "neighborhood": gettext_lazy("Neighborhood"),
            "exact_address": gettext_lazy("Exact address"),
            "phone": gettext_lazy("Phone"),
            "language": gettext_lazy("Language"),
        }
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            **help_texts,
            "avatar": gettext_lazy("A JPEG, PNG or WebP picture, at most 2 MB. Location data in the file is removed."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "language" in self.fields:  # each language in its own name; empty: the browser's
            self.fields["language"].choices = [("", gettext_lazy("The browser's language")), *settings.LANGUAGES]

    def clean_avatar(self):
        avatar = self.cleaned_data.get("avatar")
        if avatar and getattr(avatar, "size", 0) > MAX_AVATAR_BYTES:
            raise forms.ValidationError(gettext_lazy("The picture is too large: at most 2 MB, please."))
        return avatar

    def clean(self):
        cleaned = super().clean()
        lat, lng = cleaned.get("latitude"), cleaned.get("longitude")
        if (lat is None) != (lng is None) and not self.errors.get("latitude") and not self.errors.get("longitude"):
            raise forms.ValidationError(
                gettext_lazy("Give both numbers of your position (north-south and east-west), or neither.")
            )
        return cleaned


class SignupDetailsForm(forms.Form):
    """What allauth's sign-up (browser and app) asks besides email and password: the name
    neighbors will see. allauth builds its sign-up forms on this class
    (ACCOUNT_SIGNUP_FORM_CLASS), so it also decides what a taken address looks like.
    """

    display_name = forms.CharField(
        max_length=80,
        label=gettext_lazy("Your name for neighbors"),
        help_text=gettext_lazy("Shown to members of your communities. Your email address stays private."),
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )

    def clean_display_name(self) -> str:
        name = self.cleaned_data["display_name"].strip()
        if not name:
            raise forms.ValidationError(gettext_lazy("Please tell your neighbors what to call you."))
        return name

    def clean(self):
        """A taken address gets the same answer as a free one in every verification mode.

        allauth already hides it in "mandatory" mode; in "optional" mode it answers "already
        registered". Here that error is dropped and the form goes on as allauth does when
        it hides an address: no new account, and the owner gets an email saying someone
        tried to sign up with it (see ``adapters.SignupEmailVerificationStage``).
        """
        cleaned = super().clean()
        if self.has_error("email", code="email_taken"):
            email = self.data.get(self.add_prefix("email"), "").strip().lower()
            del self._errors["email"]
            cleaned["email"] = email
            self.account_already_exists = True
        return cleaned

    def signup(self, request, user) -> None:
        """allauth's hook after the account is saved; the profile (with this display
        name) is created by ``AccountAdapter.save_user``."""
