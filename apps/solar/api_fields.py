"""Fields the solar API's serializers share: its enums, each a named schema component.

The market's choices (a meter's kind, an order's side and states, ...) appear in both
the objects and the bodies that create them. drf-spectacular names an enum after its
field and warns when one name has several value sets (``kind``, ``status``), which
``make schema`` refuses; rather than a project-wide ``ENUM_NAME_OVERRIDES`` entry per
choice set, each field here carries its component's name, so a generated client gets
``SolarSideEnum``, ``SolarOrderStatusEnum`` and so on, the same type wherever it appears.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import Meter, MeterReading, Order, Slot, StandingOrder, Trade


@cache
def _named_choice_class(name: str, choices: tuple[tuple[str, str], ...]) -> type[serializers.ChoiceField]:
    # One class per name: the schema registry tells components apart by their class.
    schema = {
        "type": "string",
        "enum": [value for value, _ in choices],
        "description": "\n".join(f"* `{value}` - {label}" for value, label in choices),
    }
    return extend_schema_field(schema, component_name=name)(type(name, (serializers.ChoiceField,), {}))


def named_choice(name: str, choices: type[models.Choices] | Sequence[tuple[str, str]], **kwargs):
    """A ``ChoiceField`` whose schema is the enum component ``name``."""
    pairs = choices.choices if isinstance(choices, type) else choices
    pairs = tuple((str(value), str(label)) for value, label in pairs)
    return _named_choice_class(name, pairs)(choices=pairs, **kwargs)


def meter_kind_choice(**kwargs):
    return named_choice("SolarMeterKindEnum", Meter.Kind, **kwargs)


def meter_status_choice(**kwargs):
    return named_choice("SolarMeterStatusEnum", Meter.Status, **kwargs)


def side_choice(**kwargs):
    return named_choice("SolarSideEnum", Order.Side, **kwargs)


def order_status_choice(**kwargs):
    return named_choice("SolarOrderStatusEnum", Order.Status, **kwargs)


def standing_status_choice(**kwargs):
    return named_choice("SolarStandingStatusEnum", StandingOrder.Status, **kwargs)


def slot_status_choice(**kwargs):
    return named_choice("SolarSlotStatusEnum", Slot.Status, **kwargs)


def trade_status_choice(**kwargs):
    return named_choice("SolarTradeStatusEnum", Trade.Status, **kwargs)


def reading_source_choice(**kwargs):
    return named_choice("SolarReadingSourceEnum", MeterReading.Source, **kwargs)


@extend_schema_field(
    {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", "example": "10:00"},
)
class LocalTimeField(serializers.TimeField):
    """A time of day in the site's time zone, ``HH:MM``. Not the schema's ``format: time``,
    which is RFC 3339's and carries an offset: a standing order's hours are local
    wall-clock times (10:00 stays 10:00 when summer time starts)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("format", "%H:%M")
        super().__init__(**kwargs)


TRADE_ROLES = (("buyer", "Trades I bought in"), ("seller", "Trades I sold in"))
