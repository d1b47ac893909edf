"""Reading numbers from query strings, the one way every view and API view does it.

``str.isdigit()`` is true for characters such as "²" that ``int()`` refuses, and an id
past 2**63 overflows SQLite's integer lookups, so both turned bad links into 500s. These
helpers accept only ASCII digits (1 to 18 of them, like ``IdConverter``) and say plainly
what was wrong otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_ID = re.compile(r"[0-9]{1,18}")
_INT = re.compile(r"-?[0-9]{1,9}")


def parse_id(raw: str | None) -> int | None:
    """The database id written in ``raw``, or None when it is not one."""
    if raw is None or not _ID.fullmatch(raw):
        return None
    return int(raw)


def query_id(params: Mapping[str, str], name: str) -> int | None:
    """``params[name]`` as a database id; None when absent, empty or not an id."""
    return parse_id(params.get(name) or None)


def query_int(params: Mapping[str, str], name: str, *, default: int, low: int, high: int) -> int:
    """``params[name]`` as a small integer clamped to ``low..high``; ``default`` when it is
    absent or not a plain (optionally negative) integer."""
    raw = params.get(name) or ""
    if not _INT.fullmatch(raw):
        return default
    return min(max(int(raw), low), high)
