"""The site menu's exchanges: those used by the member's communities (all of them for
visitors), cached per member so a page costs no query for it."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.utils.functional import SimpleLazyObject

from apps.peers.blueprints import Blueprint, all_blueprints, keys_in_use_for
from apps.peers.models import CommunityExchange, Membership

_GENERATION_KEY = "front:menu:generation"
MENU_TTL = 3600


def _menu_for(user) -> list[Blueprint]:
    if not user.is_authenticated:
        used = None
    else:
        key = _menu_key(user.pk)
        used = cache.get(key)
        if used is None:
            used = sorted(keys_in_use_for(user=user))
            cache.set(key, used, timeout=MENU_TTL)
    return [bp for bp in all_blueprints() if used is None or bp.key in used]


def exchanges_menu(request) -> dict:
    """``menu_blueprints``: the blueprints to show in the site menu, in order."""
    return {"menu_blueprints": SimpleLazyObject(lambda: _menu_for(request.user))}


def _menu_key(user_id: int) -> str:
    return f"front:menu:{cache.get_or_set(_GENERATION_KEY, 1, timeout=None)}:{user_id}"


def _bump(**kwargs) -> None:
    """A community started or stopped an exchange: every member's menu is read again."""
    try:
        cache.incr(_GENERATION_KEY)
    except ValueError:
        cache.set(_GENERATION_KEY, 2, timeout=None)


def _forget_member(instance: Membership, **kwargs) -> None:
    """A membership changed: that member's menu is read again (nobody else's)."""
    cache.delete(_menu_key(instance.user_id))


post_save.connect(_bump, sender=CommunityExchange, dispatch_uid="front-menu-save-exchange")
post_delete.connect(_bump, sender=CommunityExchange, dispatch_uid="front-menu-delete-exchange")
post_save.connect(_forget_member, sender=Membership, dispatch_uid="front-menu-save-membership")
post_delete.connect(_forget_member, sender=Membership, dispatch_uid="front-menu-delete-membership")
