"""The exchange registry: what counts as a completed exchange that its two parties may review.

The reputation app is core and never imports a domain app. Instead each domain app
declares its exchange model here, once, in its ``AppConfig.ready()``:

    from apps.reputation.registry import register_exchange

    class ToolsConfig(AppConfig):
        def ready(self):
            from .models import Reservation

            register_exchange(
                Reservation,
                domain="tools",
                parties=("tool__owner", "borrower"),
                completed_at="returned_at",
                community="tool__community",
            )

The declaration is made of *field paths* (Django ``__`` lookups), not callables: the
same path reads one exchange (``exchange.tool.owner``) and filters many in one query
(``Reservation.objects.filter(tool__owner=user, returned_at__isnull=False)``), which is
what the per-domain "completed exchanges" counts need. An exchange is complete once its
``completed_at`` value is set (and not in the future); the 14-day review window runs
from that moment.

A domain model may also declare ``reviews = GenericRelation("reputation.Review")`` to
reach its reviews (and delete them with it); exchanges are normally never deleted.

Exchange types are keyed by ``"app_label.model"`` (``Reservation._meta.label_lower``),
the same string the API and the review form URL use. Registering a model twice is a
programming error and raises ``ImproperlyConfigured``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from apps.peers.models import Community, User

DOMAINS: dict[str, str] = {
    "tools": gettext_lazy("tool loans"),
    "skills": gettext_lazy("skill sessions"),
    "solar": gettext_lazy("energy trades"),
    "codesign": gettext_lazy("co-design tasks"),
}


class UnknownExchangeType(LookupError):
    """A string or model instance that names no registered exchange type."""


def _follow(obj: Any, path: str) -> Any:
    for part in path.split("__"):
        if obj is None:
            return None
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class ExchangeType:
    """One registered kind of exchange: where its parties, completion and community are."""

    model: type[Model]
    domain: str
    parties: tuple[str, str]
    completed_at: str
    community: str

    @property
    def key(self) -> str:
        return self.model._meta.label_lower

    def parties_of(self, exchange: Model) -> tuple[User, User]:
        return _follow(exchange, self.parties[0]), _follow(exchange, self.parties[1])

    def completed_at_of(self, exchange: Model) -> datetime | None:
        return _follow(exchange, self.completed_at)

    def community_of(self, exchange: Model) -> Community:
        return _follow(exchange, self.community)

    def completed_for(self, user: User) -> QuerySet:
        """The completed exchanges of this type that ``user`` took part in (one query to count)."""
        return self.model._default_manager.filter(
            Q(**{self.parties[0]: user}) | Q(**{self.parties[1]: user}),
            **{f"{self.completed_at}__isnull": False},
        )


_registry: dict[str, ExchangeType] = {}


def register_exchange(
    model: type[Model], *, domain: str, parties: tuple[str, str], completed_at: str, community: str
) -> ExchangeType:
    """Declare ``model`` a reviewable exchange of ``domain`` (see the module docstring)."""
    if domain not in DOMAINS:
        raise ImproperlyConfigured(f"Unknown exchange domain {domain!r}; expected one of {sorted(DOMAINS)}.")
    if len(parties) != 2:
        raise ImproperlyConfigured("An exchange has exactly two parties.")
    exchange_type = ExchangeType(
        model=model, domain=domain, parties=tuple(parties), completed_at=completed_at, community=community
    )
    if exchange_type.key in _registry:
        raise ImproperlyConfigured(f"{exchange_type.key} is already registered as an exchange.")
    _registry[exchange_type.key] = exchange_type
    return exchange_type


def exchange_type_for(key: str) -> ExchangeType:
    """The registered type named ``"app_label.model"``; ``UnknownExchangeType`` otherwise."""
    try:
        return _registry[key.lower()]
    except KeyError:
        raise UnknownExchangeType(_("%(key)r is not a kind of exchange that can be reviewed.") % {"key": key}) from None


def exchange_type_of(exchange: Model) -> ExchangeType:
    return exchange_type_for(exchange._meta.label_lower)


def registered() -> list[ExchangeType]:
    return list(_registry.values())
