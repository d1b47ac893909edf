"""Domain errors raised by services in every app."""

from collections.abc import Mapping
from typing import Any


class RuleViolation(Exception):
    """A request that is well-formed but breaks a business rule (HTTP 409 in the API).

    Bad input (a missing or malformed field) is Django's ``ValidationError`` instead.
    ``code`` names the rule for programs; ``data`` carries what a program needs to offer
    a way out (``{"next_free_start": <datetime>}``), sent beside ``detail`` and ``code``
    in the API's answer (datetimes as ISO 8601 with their offset) and declared per
    operation with ``p2pcommons.api.schema.conflicts(..., data=...)``.
    """

    code = "rule_violation"

    def __init__(self, message: str, *, code: str | None = None, data: Mapping[str, Any] | None = None) -> None:
        # A lazy sentence is put into words now, in the language of the request or task
        # that refuses (later, the thread may read another language).
        super().__init__(str(message))
        if code:
            self.code = code
        self.data = dict(data or {})
