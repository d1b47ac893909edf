"""Serializer fields shared by the apps' APIs."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.apps import apps
from rest_framework import serializers


def from_the_project(app_label: str) -> bool:
    """Whether ``app_label`` is one of the project's own apps (``apps.*``).

    Registries also hold what the test suite registers (``tests/exchanges``, kinds a
    conftest adds); the enums of the schema, which is committed and from which clients
    are generated, list only what the project itself registers.
    """
    try:
        return apps.get_app_config(app_label).name.startswith("apps.")
    except LookupError:
        return False


class RegistryChoiceField(serializers.ChoiceField):
    """A choice among what a registry holds (notification kinds, exchange types), read
    when it is used rather than when the module is imported: the apps fill their
    registries at start-up, and a new kind then shows in the schema as a value of its
    named enum (``ENUM_NAME_OVERRIDES`` names it with the same function).

    ``RegistryChoiceField(kind_choices, read_only=True)``; ``kind_choices()`` returns the
    choices as ``ChoiceField`` takes them.
    """

    def __init__(self, choices: Callable[[], Iterable], **kwargs) -> None:
        self._registry_choices = choices
        self._loaded: list | None = None
        super().__init__(choices=(), **kwargs)

    def _get_choices(self):
        current = list(self._registry_choices())
        if current != self._loaded:
            self._loaded = current
            self._set_choices(current)
        return self._choices

    choices = property(_get_choices, serializers.ChoiceField._set_choices)

    def to_internal_value(self, data):
        self._get_choices()
        return super().to_internal_value(data)

    def to_representation(self, value):
        self._get_choices()
        return super().to_representation(value)
