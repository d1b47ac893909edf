"""Thin Celery tasks for the peer core: take ids, load rows, call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from p2pcommons.i18n import override_for
from p2pcommons.resilience import DATABASE_LOST

from .models import Membership

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(OSError, *DATABASE_LOST),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def membership_send_welcome(self, membership_id: int) -> bool:
    """Email a new member once. Idempotent: the claim is a conditional UPDATE, and a
    failed send releases the claim before retrying, so the email goes out exactly once.
    """
    from . import services

    membership = Membership.objects.select_related("user", "community").filter(pk=membership_id).first()
    if membership is None:
        return False  # they left before we got to it
    if not services.membership_mark_welcomed(membership_id=membership_id):
        return False
    context = {"membership": membership, "community": membership.community, "site_url": settings.SITE_URL}
    try:
        with override_for(membership.user):  # in the new member's language and zone
            send_mail(
                subject=_("Welcome to %(community)s") % {"community": membership.community.name},
                message=render_to_string("peers/email/welcome.txt", context),
                from_email=None,
                recipient_list=[membership.user.email],
                html_message=render_to_string("peers/email/welcome.html", context),
            )
    except Exception:
        Membership.objects.filter(pk=membership_id).update(welcomed_at=None)
        raise
    logger.info("Welcomed %s to %s", membership.user_id, membership.community.slug)
    return True
