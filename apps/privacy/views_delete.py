"""The "Delete my account" pages: what will happen, the confirmation, and the last page.

Thin: the form parses, ``apps.privacy.deletion`` decides (``deletion_preview`` for what
the page shows, ``account_delete`` for the act, its refusals shown on the form).
"""

from __future__ import annotations

from django import forms
from django.contrib import auth
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from p2pcommons.forms import AccessibleErrorsMixin
from p2pcommons.viewkit import REFUSED, attempt

from .deletion import CONFIRM_WORD, account_delete, deletion_preview


class DeleteAccountForm(AccessibleErrorsMixin, forms.Form):
    """Type the word, give the password, and (with a balance below zero) tick the box."""

    confirm_word = forms.CharField(
        label=gettext_lazy("Type DELETE to confirm"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    password = forms.CharField(
        label=gettext_lazy("Your password"),
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm_negative = forms.BooleanField(
        label=gettext_lazy(
            "I understand that my balance below zero stays in the community's ledger under my pseudonym."
        ),
        required=False,
    )

    def __init__(self, *args, negative: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.negative = negative
        if negative:
            self.fields["confirm_negative"].required = True
        else:
            del self.fields["confirm_negative"]

    def clean_confirm_word(self) -> str:
        word = self.cleaned_data["confirm_word"].strip()
        if word.upper() != CONFIRM_WORD:
            raise forms.ValidationError(_("Type the word DELETE, in capitals, to confirm."))
        return word


@login_required
@require_http_methods(["GET", "POST"])
def delete_start(request: HttpRequest) -> HttpResponse:
    """GET: what deleting the account will do, and the form. POST: delete, sign out, and
    show the last page; a refusal shows the form again with why."""
    preview = deletion_preview(request.user)
    negative = bool(preview.negative_balances)
    form = DeleteAccountForm(request.POST or None, negative=negative)
    if request.method == "POST" and form.is_valid() and preview.can_delete:
        user = request.user
        erasure = attempt(
            request,
            lambda: account_delete(
                user=user,
                actor=user,
                confirm_negative=bool(form.cleaned_data.get("confirm_negative")),
                password=form.cleaned_data["password"],
            ),
            form=form,
        )
        if erasure is not REFUSED:
            auth.logout(request)
            return redirect("account_delete:done")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "privacy/delete_start.html",
        {"preview": preview, "form": form, "confirm_word": CONFIRM_WORD},
        status=status,
    )


@require_http_methods(["GET"])
def delete_done(request: HttpRequest) -> HttpResponse:
    """The page after sign-out: the account is deleted."""
    return render(request, "privacy/delete_done.html")
