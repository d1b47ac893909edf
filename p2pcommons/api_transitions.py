"""The REST side of ``p2pcommons.transitions``: the ``actions`` field and one
``POST {id}/<action>/`` endpoint per declared step, both from the machine.

    @transition_endpoints(LOAN, perform={"approve": services.reservation_approve, ...},
                          obj_kwarg="reservation", serializer=ReservationSerializer, tags=["reservations"])
    class ReservationViewSet(...):
        ...

    class ReservationSerializer(serializers.ModelSerializer):
        actions = ActionsField(LOAN)

A client shows the buttons ``actions`` lists and calls the endpoint of the one pressed;
it never works a rule out itself, so it cannot drift from the web page or the service.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action as drf_action
from rest_framework.response import Response

from p2pcommons.api.schema import FIELD_ERRORS, NOT_FOUND, conflicts
from p2pcommons.transitions import Machine


class ActionsField(serializers.ListField):
    """``actions``: the names of what the requesting member may do with this object now,
    in the order the page shows the buttons (read-only; from the machine's rules)."""

    def __init__(self, machine: Machine, **kwargs):
        self.machine = machine
        kwargs.setdefault(
            "help_text", "What you may do with it now; each is a POST to .../{id}/<action>/ where one exists."
        )
        super().__init__(
            child=serializers.ChoiceField(choices=machine.member_choices), read_only=True, source="*", **kwargs
        )

    def to_representation(self, obj):
        request = self.context.get("request")
        return self.machine.allowed_names(obj, getattr(request, "user", None))


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=300, help_text="Optional; shown to the other person."
    )


def transition_endpoints(
    machine: Machine,
    *,
    perform: Mapping[str, Callable],
    obj_kwarg: str,
    serializer: type[serializers.Serializer],
    tags: list[str],
    docs: Mapping[str, str] | None = None,
    also_refused: Mapping[str, tuple[str, ...]] | None = None,
):
    """A class decorator adding to a ViewSet one ``POST {id}/<name>/`` per entry of
    ``perform`` (the service that takes that step: ``service(<obj_kwarg>=obj, actor=user,
    note=...)``). A step that takes a note accepts ``{"note": "..."}``; the others take
    no body. A refusal is the service's: 409 with its ``code``, documented from the
    machine's checks (``Machine.codes``) plus ``also_refused[name]``, the codes of what
    the service does after the step (e.g. the ledger refusing a payment)."""
    docs = docs or {}
    also_refused = also_refused or {}

    def decorate(viewset):
        for name, service in perform.items():
            declared = machine.by_name[name]
            endpoint = _endpoint(declared, service, obj_kwarg, serializer)
            endpoint.__doc__ = docs.get(name) or declared.label
            responses = {200: serializer, 404: NOT_FOUND}
            if declared.takes_note:
                responses[400] = FIELD_ERRORS
            responses[409] = conflicts(*machine.codes(name), *also_refused.get(name, ()))
            # As written by hand: @extend_schema over @action (the action first).
            endpoint = drf_action(detail=True, methods=["post"], url_path=name, url_name=name)(endpoint)
            endpoint = extend_schema(
                summary=declared.label,
                request=NoteSerializer if declared.takes_note else None,
                responses=responses,
                tags=tags,
            )(endpoint)
            setattr(viewset, endpoint.__name__, endpoint)
        return viewset

    return decorate


def _endpoint(declared, service, obj_kwarg, serializer):
    def endpoint(self, request, pk=None):
        obj = self.get_object()
        extra = {}
        if declared.takes_note:
            payload = NoteSerializer(data=request.data if isinstance(request.data, dict) else {})
            payload.is_valid(raise_exception=True)
            extra["note"] = payload.validated_data["note"]
        result = service(**{obj_kwarg: obj}, actor=request.user, **extra)
        return Response(serializer(result, context=self.get_serializer_context()).data)

    # "return" is a keyword: the method is return_, its URL .../return/.
    endpoint.__name__ = f"{declared.name}_" if declared.name in {"return", "import", "pass"} else declared.name
    return endpoint
