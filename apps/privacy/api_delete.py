"""API: "Delete my account" (members only, like the rest of the API).

- ``GET /api/v1/me/delete/``: what deleting would do (what is cancelled, what stays,
  balances below zero, communities to hand over first).
- ``POST /api/v1/me/delete/`` with ``{"confirm": true, "confirm_negative_balance": bool,
  "password": "..."}``: delete the account now (204). Refusals: 400 with field errors
  (no confirmation, wrong password), 409 with a ``code``: ``negative_balance`` (data:
  ``balances``; send ``confirm_negative_balance: true`` once the member agreed),
  ``last_organizer`` (data: ``communities``), ``already_deleted``.

Both call ``apps.privacy.deletion``, like the page.
"""

from __future__ import annotations

from django.contrib.auth import logout
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.ledger.models import Currency
from p2pcommons.api.schema import FIELD_ERRORS, conflicts

from .deletion import account_delete, deletion_preview

TAGS = ["privacy"]
# The ``balances`` of a ``negative_balance`` refusal (``Balance.as_data``).
BALANCES_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "community": {"type": "string"},
            "currency": {"type": "string", "enum": ["HOUR", "CREDIT"]},
            "balance": {"type": "string", "format": "decimal"},
        },
    },
}


class BalanceSerializer(serializers.Serializer):
    community = serializers.CharField(help_text="The community's name.")
    currency = serializers.ChoiceField(choices=Currency.choices)
    balance = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="Below zero.")


class DeletionPreviewSerializer(serializers.Serializer):
    """What deleting the account would do, in sentences to show the member."""

    cancelled = serializers.ListField(child=serializers.CharField(), help_text="Called off; the others are told.")
    kept = serializers.ListField(child=serializers.CharField(), help_text="Stays on record under the pseudonym.")
    negative_balances = BalanceSerializer(many=True, help_text="Must be confirmed with confirm_negative_balance.")
    blocking_communities = serializers.ListField(
        child=serializers.CharField(), help_text="Communities where the member is the last organizer: hand over first."
    )
    can_delete = serializers.BooleanField()


class DeleteAccountSerializer(serializers.Serializer):
    confirm = serializers.BooleanField(help_text="Must be true: the member confirmed the deletion.")
    confirm_negative_balance = serializers.BooleanField(
        default=False, help_text="True once the member knows their balance below zero stays on record."
    )
    password = serializers.CharField(max_length=200, trim_whitespace=False, help_text="The member's password.")

    def validate_confirm(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError(_("Confirm the deletion with true."))
        return value


class DeleteAccountView(APIView):
    """My account's deletion: what it would do, and doing it."""

    @extend_schema(
        summary="What deleting my account would do",
        tags=TAGS,
        responses={200: DeletionPreviewSerializer},
    )
    def get(self, request):
        preview = deletion_preview(request.user)
        data = {
            "cancelled": preview.cancelled,
            "kept": preview.kept,
            "negative_balances": [b.as_data() for b in preview.negative_balances],
            "blocking_communities": preview.blocking_communities,
            "can_delete": preview.can_delete,
        }
        return Response(DeletionPreviewSerializer(data).data)

    @extend_schema(
        summary="Delete my account",
        description="Erases my personal data, cancels my open commitments (the others are told) and signs me out "
        "everywhere. Completed exchanges, reviews I wrote and the ledger stay under a pseudonym. Cannot be undone.",
        tags=TAGS,
        request=DeleteAccountSerializer,
        responses={
            204: None,
            400: FIELD_ERRORS,
            409: conflicts(
                "negative_balance",
                "last_organizer",
                "already_deleted",
                data={"balances": BALANCES_SCHEMA, "communities": {"type": "array", "items": {"type": "string"}}},
            ),
        },
    )
    def post(self, request):
        payload = DeleteAccountSerializer(data=request.data if isinstance(request.data, dict) else {})
        payload.is_valid(raise_exception=True)
        user = request.user
        account_delete(
            user=user,
            actor=user,
            confirm_negative=payload.validated_data["confirm_negative_balance"],
            password=payload.validated_data["password"],
        )
        if hasattr(request, "session"):
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)
