"""The skill swap on the federation: open skill offers and requests as FEP-0837 Proposals
(``apps.federation.registry``), announced to the communities that follow the offer's
community and withdrawn when closed, expired, hidden or deleted. Sessions across
communities are not federated yet (no borrow adapter): neighbours see what is offered
and asked, and get in touch through their community.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.utils import timezone


def _fields(listing):
    from apps.federation.registry import ProposalData

    skill = listing.skills.select_related("category").order_by("name").first()
    return ProposalData(
        name=listing.title,
        content=listing.description,
        category=skill.name if skill else "",
        url=f"{settings.SITE_URL.rstrip('/')}{listing.get_absolute_url()}",
        published=listing.created_at,
        updated=max(listing.updated_at, listing.created_at),
        unit="hour",
        fee_amount=Decimal("1"),  # the timebank: an hour for an hour
        fee_unit="HOUR",
    )


def _is_public(listing) -> bool:
    return listing.status == listing.Status.OPEN and not listing.is_hidden and listing.expires_at > timezone.now()


def _public(model):
    def listings(community_ids):
        return (
            model.objects.filter(
                community_id__in=community_ids, status=model.Status.OPEN, is_hidden=False, expires_at__gt=timezone.now()
            )
            .prefetch_related("skills")
            .order_by("id")
        )

    return listings


def _saved(sender, instance, created: bool = False, raw: bool = False, **kwargs) -> None:
    if not raw:
        from apps.federation.services import listing_changed

        listing_changed(obj=instance, created=created)


def _deleted(sender, instance, **kwargs) -> None:
    from apps.federation.services import listing_changed

    listing_changed(obj=instance)


def register() -> None:
    """Called once from ``SkillsConfig.ready()``."""
    from django.db.models.signals import post_delete, post_save

    from apps.federation.registry import ListingType, register_listing

    from .models import Offer, Request

    for kind, model in (("skill_offer", Offer), ("skill_request", Request)):
        register_listing(
            ListingType(
                kind=kind,
                model=model,
                community_id=lambda listing: listing.community_id,
                is_public=_is_public,
                fields=_fields,
                public_in=_public(model),
            )
        )
        post_save.connect(_saved, sender=model, dispatch_uid=f"skills.federation.save.{kind}")
        post_delete.connect(_deleted, sender=model, dispatch_uid=f"skills.federation.delete.{kind}")
