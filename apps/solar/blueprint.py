"""The Micro Solar Exchange blueprint: how the front door, the dashboard, unified search and
the profile see this exchange (``apps.peers.blueprints``). Registered from ``apps.py``."""

from __future__ import annotations

from apps.peers.blueprints import Blueprint, Figure

DEFAULT_RULES = ""


def figure() -> Figure:
    return Figure(value="0", label="kWh traded this month")


BLUEPRINT = Blueprint(
    key="solar",
    category="Sustainability",
    title="Micro Solar Exchange",
    description="A simple peer model for sharing extra solar power locally.",
    tags=("Energy", "Green"),
    nav_label="Energy",
    nav_url="solar:market",
    order=20,
    default_rules=DEFAULT_RULES,
    figure=figure,
)
