"""django-allauth wiring: profiles at sign-up, no account enumeration, lockouts per
account and source.
"""

from __future__ import annotations

from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.stages import EmailVerificationStage
from django.http import HttpRequest

from . import services

EMAIL_VERIFICATION_STAGE = "allauth.account.stages.EmailVerificationStage"


class AccountAdapter(DefaultAccountAdapter):
    """Creates the member's profile together with the account (browser and app signups),
    with the display name they chose."""

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            display_name = (getattr(form, "cleaned_data", None) or {}).get("display_name", "")
            services.profile_ensure(user=user, display_name=display_name)
        return user

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        """The "login_failed" lockout counts failures per account AND per source address.

        allauth keys it on the address typed in alone, so five wrong guesses from anywhere
        would lock the real member out; with the client's IP in the key, an attacker only
        locks themselves out. Guessing from many addresses is still limited per address by
        the "10/m/ip" part of the same limit.
        """
        return f"{super()._get_login_attempts_cache_key(request, **credentials)}:{self.get_client_ip(request)}"

    def get_login_stages(self) -> list[str]:
        return [
            "apps.peers.adapters.SignupEmailVerificationStage" if path == EMAIL_VERIFICATION_STAGE else path
            for path in super().get_login_stages()
        ]


class SignupEmailVerificationStage(EmailVerificationStage):
    """A sign-up never logs in at once, whatever the verification mode.

    In "optional" mode allauth would sign a new account in straight away, while a taken
    address cannot be: the two answers would tell anyone which addresses have an account.
    Here every sign-up ends on the same "check your email" page (the owner of a taken
    address gets a "someone tried to sign up with your address" email instead); later
    logins are not affected, so in "optional" mode a member may still log in unverified.
    """

    def handle(self):
        if self.login.signup and self.login.email_verification == account_settings.EmailVerificationMethod.OPTIONAL:
            self.login.email_verification = account_settings.EmailVerificationMethod.MANDATORY
        return super().handle()
