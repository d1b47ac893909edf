"""What each persona must never see of the other community: its rows' ids (read from an
API list's ``results``) and its rows' pages (links in any answer). Built once per world."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from django.db.models import Model
from django.urls import resolve

from .endpoints import admin_models
from .world import World

# Who may see which community's rows: its members (a suspended member still reads some
# of A: co-design, reviews) and the site's superuser (the API lists flags and reviews of
# every community to them).
SEES_A = {"suspended", "owner", "counterpart", "member", "organizer", "superuser"}
SEES_B = {"outsider", "other_organizer", "superuser"}
# A community itself, its categories and skills are listed to everyone (the directory).
PUBLIC_MODELS = {"peers.Community", "tools.Category", "skills.SkillCategory", "skills.Skill"}
EXTRA_PATHS = {"skills.Match": "request__community"}


@dataclass
class Fence:
    ids: dict[str, set[int]] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    pattern: re.Pattern | None = None


def _paths() -> dict[str, str]:
    paths = {label: getattr(ma, "community_path", None) for label, ma in admin_models().items()}
    paths.update(EXTRA_PATHS)
    return {label: path for label, path in paths.items() if path is not None and label not in PUBLIC_MODELS}


def build(world: World) -> dict[str, Fence]:
    """community slug -> its rows, by model label, and the pages of those rows."""
    fences = {}
    for side in (world.a, world.b):
        fence = Fence()
        for label, path in _paths().items():
            model = _model(label)
            rows = list(model._base_manager.filter(**{path or "pk": side.community.pk}))
            fence.ids[label] = {row.pk for row in rows}
            for row in rows:
                url = _page(row)
                if f"/{row.pk}/" in url:  # a page of this row, not a list it sits in
                    fence.urls[url] = f"{label} {row.pk}"
        if fence.urls:
            fence.pattern = re.compile("(" + "|".join(re.escape(url) for url in fence.urls) + r""")["'?#]""")
        fences[side.community.slug] = fence
    return fences


def _model(label: str) -> type[Model]:
    from django.apps import apps

    return apps.get_model(label)


def _page(row: Model) -> str:
    try:
        return row.get_absolute_url() if hasattr(row, "get_absolute_url") else ""
    except Exception:  # a row whose page needs more than itself has none to leak
        return ""


def forbidden(fences: dict[str, Fence], world: World, persona: str) -> list[Fence]:
    """The fences of the communities ``persona`` may not see into."""
    out = []
    if persona not in SEES_A:
        out.append(fences[world.a.community.slug])
    if persona not in SEES_B:
        out.append(fences[world.b.community.slug])
    return out


def list_model(url: str) -> str | None:
    """The model an API list endpoint lists (its serializer's), or None."""
    callback = resolve(url.split("?")[0]).func
    view_class = getattr(callback, "cls", None)
    serializer = getattr(view_class, "serializer_class", None)
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    if model is None and getattr(view_class, "queryset", None) is not None:
        model = view_class.queryset.model
    return model._meta.label if model is not None else None


def foreign_rows(text: str, url: str, fences: list[Fence]) -> list[str]:
    """Rows of a forbidden community in the answer: ids in an API list, links anywhere."""
    found = []
    label = (
        list_model(url)
        if url.startswith("/api/") and getattr(resolve(url.split("?")[0]), "url_name", "").endswith("-list")
        else None
    )
    if label is not None:
        try:
            results = json.loads(text).get("results", [])
        except (ValueError, AttributeError):
            results = []
        ids = {item.get("id") for item in results if isinstance(item, dict)}
        for fence in fences:
            found += [f"{label} {pk}" for pk in ids & fence.ids.get(label, set())]
    for fence in fences:
        if fence.pattern is not None:
            found += [fence.urls[match] for match in set(fence.pattern.findall(text))]
    return found
