"""The Skill Swap Network blueprint: how the front door, the dashboard, unified search and
the profile see this exchange (``apps.peers.blueprints``). Registered from ``apps.py``."""

from __future__ import annotations

from apps.peers.blueprints import Blueprint, Figure

DEFAULT_RULES = ""


def figure() -> Figure:
    return Figure(value="0", label="hours swapped")


BLUEPRINT = Blueprint(
    key="skills",
    category="Learning",
    title="Skill Swap Network",
    description="A community-driven way to exchange home, garden, and repair skills.",
    tags=("Education", "P2P"),
    nav_label="Skills",
    nav_url="skills:directory",
    order=30,
    default_rules=DEFAULT_RULES,
    figure=figure,
)
