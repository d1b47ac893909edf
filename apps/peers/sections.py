"""What the exchanges show on a community's page.

The peer core never imports the apps built on it, so each exchange registers a section
here from its ``AppConfig.ready()``: a first step for new members, and a short preview
of what the community offers, loaded through the exchange's own selectors (the same
visibility rules as its lists) in a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .models import Community, User


@dataclass(frozen=True)
class CommunitySection:
    """One exchange's part of a community page.

    ``load(user=, community=, limit=)`` returns at most ``limit`` items; ``template``
    renders them (context: ``community``, ``items``) and ``first_step`` renders one
    ``<li>`` of the new member's first steps (context: ``community``).
    """

    key: str
    template: str
    first_step: str
    load: Callable[..., list[Any]]
    order: int = 100


_SECTIONS: dict[str, CommunitySection] = {}


def register_community_section(section: CommunitySection) -> None:
    _SECTIONS[section.key] = section


def community_sections(
    *, user: User, community: Community, limit: int, used: set[str] | None = None
) -> list[tuple[CommunitySection, list[Any]]]:
    """The sections of the exchanges the community uses (``used``, read when not given),
    with their items, in order."""
    from .blueprints import keys_in_use

    if used is None:
        used = keys_in_use(community_id=community.pk)
    ordered = sorted(
        (section for section in _SECTIONS.values() if section.key in used),
        key=lambda section: (section.order, section.key),
    )
    return [(section, section.load(user=user, community=community, limit=limit)) for section in ordered]
