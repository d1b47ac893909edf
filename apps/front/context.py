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
        generation = cache.get_or_set(_GENERATION_KEY, 1, timeout=None)
        key = f"front:menu:{generation}:{user.pk}"
        used = cache.get(key)
        if used is None:
            used = sorted(keys_in_use_for(user=user))
            cache.set(key, used, timeout=MENU_TTL)
    return [bp for bp in all_blueprints() if used is None or bp.key in used]


def exchanges_menu(request) -> dict:
    """``menu_blueprints``: the blueprints to show in the site menu, in order."""
    return {"menu_blueprints": SimpleLazyObject(lambda: _menu_for(request.user))}


def _bump(**kwargs) -> None:
    try:
        cache.incr(_GENERATION_KEY)
    except ValueError:
        cache.set(_GENERATION_KEY, 2, timeout=None)


for _model in (CommunityExchange, Membership):
    post_save.connect(_bump, sender=_model, dispatch_uid=f"front-menu-save-{_model._meta.label}")
    post_delete.connect(_bump, sender=_model, dispatch_uid=f"front-menu-delete-{_model._meta.label}")
