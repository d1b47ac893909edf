"""The Community Tool Sharing blueprint: how the front door, the dashboard, unified search and
the profile see this exchange (``apps.peers.blueprints``). Registered from ``apps.py``."""

from __future__ import annotations

from apps.peers.blueprints import Blueprint, Figure

DEFAULT_RULES = ""


def figure() -> Figure:
    return Figure(value="0", label="tools to borrow")


BLUEPRINT = Blueprint(
    key="tools",
    category="Collaboration",
    title="Community Tool Sharing",
    description="An organized system for sharing home tools and resources between neighbors.",
    tags=("DIY", "Shared"),
    nav_label="Tools",
    nav_url="tools:list",
    order=10,
    default_rules=DEFAULT_RULES,
    figure=figure,
)
