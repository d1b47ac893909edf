"""The Co-Design Mini Projects blueprint: how the front door, the dashboard, unified search and
the profile see this exchange (``apps.peers.blueprints``). Registered from ``apps.py``."""

from __future__ import annotations

from apps.peers.blueprints import Blueprint, Figure

DEFAULT_RULES = ""


def figure() -> Figure:
    return Figure(value="0", label="challenges open")


BLUEPRINT = Blueprint(
    key="codesign",
    category="Design",
    title="Co-Design Mini Projects",
    description="Small design challenges people can join to improve a shared space.",
    tags=("Home", "Creative"),
    nav_label="Design",
    nav_url="codesign:list",
    order=40,
    default_rules=DEFAULT_RULES,
    figure=figure,
)
