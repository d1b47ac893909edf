"""A member's saved language and home time zone follow them into each new session."""

from __future__ import annotations

from allauth.account.signals import user_signed_up
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from p2pcommons.i18n import SESSION_LANGUAGE, SESSION_TIMEZONE, member_timezone


@receiver(user_logged_in, dispatch_uid="peers-locale-on-login")
def remember_locale(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    from .models import Profile

    language = Profile.objects.filter(user=user).values_list("language", flat=True).first()
    if language:
        request.session[SESSION_LANGUAGE] = language
    request.session[SESSION_TIMEZONE] = member_timezone(user).key


@receiver(user_signed_up, dispatch_uid="peers-language-on-signup")
def language_at_signup(sender, request, user, **kwargs) -> None:
    """A member who signs up reading Dutch gets Dutch emails: the page's language is
    saved on their profile (they can change it there or at the foot of any page)."""
    from .services import profile_ensure

    code = getattr(request, "LANGUAGE_CODE", "") if request is not None else ""
    if code and code != "en" and code in dict(settings.LANGUAGES):
        profile = profile_ensure(user=user)
        if not profile.language:
            profile.language = code
            profile.save(update_fields=["language", "updated_at"])
            request.session[SESSION_LANGUAGE] = code
