"""REST API for the ledger: accounts, transfers (with Idempotency-Key), verify, export."""

from __future__ import annotations

from decimal import Decimal

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.peers.models import Community
from p2pcommons.api.schema import FIELD_ERRORS, FORBIDDEN, NOT_FOUND, conflicts
from p2pcommons.converters import IdConverter
from p2pcommons.params import query_id

from . import selectors, services
from .chain import export_stream, verify_community_cached
from .models import Account, Currency, Transfer


class AccountSerializer(serializers.ModelSerializer):
    holder = serializers.CharField(source="holder_name", read_only=True)
    community_slug = serializers.CharField(source="community.slug", read_only=True)
    available = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = Account
        fields = ("id", "community", "community_slug", "currency", "owner", "holder", "balance", "limit", "available")
        read_only_fields = fields


class TransferSerializer(serializers.ModelSerializer):
    source_holder = serializers.CharField(source="source.holder_name", read_only=True)
    target_holder = serializers.CharField(source="target.holder_name", read_only=True)

    class Meta:
        model = Transfer
        fields = (
            "id",
            "community",
            "currency",
            "source",
            "source_holder",
            "target",
            "target_holder",
            "amount",
            "kind",
            "memo",
            "reverses",
            "created_at",
        )
        read_only_fields = fields


class TransferCreateSerializer(serializers.Serializer):
    """A gift or direct payment to another member of the same community."""

    community = serializers.PrimaryKeyRelatedField(queryset=Community.objects.all())
    currency = serializers.ChoiceField(choices=Currency.choices)
    # A plain id, not a related field: an unknown id and a non-member get one answer
    # from the service, so nobody learns who is behind an id (see gift_recipient).
    to = serializers.IntegerField(help_text="The recipient's user id.")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    memo = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="A unique key per intended transfer (e.g. a UUID). Retrying with the same key never pays twice.",
)
COMMUNITY_PARAM = OpenApiParameter("community", OpenApiTypes.INT, OpenApiParameter.QUERY, required=True)


@extend_schema_view(
    list=extend_schema(summary="My accounts (organizers: also their communities' accounts)", tags=["ledger"]),
    retrieve=extend_schema(summary="An account", tags=["ledger"], responses={200: AccountSerializer, 404: NOT_FOUND}),
)
class AccountViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AccountSerializer
    queryset = Account.objects.none()
    lookup_value_regex = IdConverter.regex
    filterset_fields = ("community", "currency")

    def get_queryset(self):
        return selectors.accounts_visible_to(user=self.request.user)


@extend_schema_view(
    list=extend_schema(summary="Transfers I sent or received", tags=["ledger"]),
    retrieve=extend_schema(summary="A transfer", tags=["ledger"], responses={200: TransferSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary="Send credits to another member",
        tags=["ledger"],
        parameters=[IDEMPOTENCY_HEADER],
        request=TransferCreateSerializer,
        responses={
            201: TransferSerializer,
            200: TransferSerializer,
            400: FIELD_ERRORS,
            409: conflicts(
                "same_account",
                "recipient_not_member",
                "not_member",
                "suspended",
                "limit_exceeded",
                "idempotency_key_reused",
            ),
        },
    ),
)
class TransferViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = TransferSerializer
    queryset = Transfer.objects.none()
    lookup_value_regex = IdConverter.regex
    filterset_fields = ("community", "currency", "kind")

    def get_queryset(self):
        return selectors.transfers_of(user=self.request.user)

    def create(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > 64:
            raise DRFValidationError({"Idempotency-Key": [_("Send a header Idempotency-Key of 1 to 64 characters.")]})
        payload = TransferCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        transfer = services.gift_send(
            sender=request.user,
            recipient=services.gift_recipient(community=data["community"], user_id=data["to"]),
            community=data["community"],
            currency=data["currency"],
            amount=data["amount"],
            memo=data["memo"],
            idempotency_key=key,
        )
        return Response(
            TransferSerializer(transfer, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED if transfer.was_created else status.HTTP_200_OK,
        )


class VerifyResultSerializer(serializers.Serializer):
    community = serializers.IntegerField()
    ok = serializers.BooleanField()
    checked = serializers.IntegerField()
    broken_seq = serializers.IntegerField(allow_null=True)
    broken_entry_id = serializers.IntegerField(allow_null=True)
    problem = serializers.CharField(allow_blank=True)
    balance_problems = serializers.ListField(child=serializers.CharField())


def _community_for_member(request) -> Community:
    community_id = query_id(request.query_params, "community")
    if community_id is None:
        raise DRFValidationError({"community": [_("Give the community's id, e.g. ?community=1.")]})
    community = get_object_or_404(Community, pk=community_id)
    if not selectors.may_audit(user=request.user, community=community):
        raise PermissionDenied("Only members of this community can audit its ledger.")
    return community


class LedgerVerifyView(APIView):
    """Recompute the community's hash chain and balances now."""

    # "Now" as of the chain head: the answer is cached per head (see verify_community_cached).

    @extend_schema(
        tags=["ledger"],
        parameters=[COMMUNITY_PARAM],
        responses={
            200: VerifyResultSerializer,
            400: FIELD_ERRORS,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def get(self, request):
        community = _community_for_member(request)
        return Response({"community": community.pk, **verify_community_cached(community=community).as_dict()})


MONEY = {"max_digits": 16, "decimal_places": 2}


class ExportCommunitySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()


class ExportAccountSerializer(serializers.Serializer):
    """An account as the export lists it: the holder's public name, never private data."""

    id = serializers.IntegerField()
    currency = serializers.ChoiceField(choices=Currency.choices)
    holder = serializers.CharField()
    limit = serializers.DecimalField(**MONEY)
    balance = serializers.DecimalField(**MONEY)


class ExportEntrySerializer(serializers.Serializer):
    """One link of the hash chain: the fields its hash covers (canonical form ``v``), then
    its id, the previous link's hash and its own."""

    v = serializers.IntegerField(help_text="The canonical form's version.")
    seq = serializers.IntegerField()
    community = serializers.IntegerField()
    account = serializers.IntegerField()
    amount = serializers.DecimalField(**MONEY, help_text="Negative for the paying account.")
    balance_after = serializers.DecimalField(**MONEY)
    transfer = serializers.IntegerField()
    transfer_amount = serializers.DecimalField(**MONEY)
    source = serializers.IntegerField()
    target = serializers.IntegerField()
    currency = serializers.ChoiceField(choices=Currency.choices)
    kind = serializers.ChoiceField(choices=Transfer.Kind.choices)
    memo = serializers.CharField(allow_blank=True)
    idempotency_key = serializers.CharField()
    reverses = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField(help_text="In UTC, with microseconds.")
    id = serializers.IntegerField()
    prev_hash = serializers.CharField()
    hash = serializers.CharField()


class LedgerExportSerializer(serializers.Serializer):
    """The export document (describes the streamed answer; nothing is serialized with it)."""

    format = serializers.CharField(help_text='"p2pcommons-ledger-export/2"')
    community = ExportCommunitySerializer()
    exported_at = serializers.DateTimeField(help_text="In UTC, with microseconds.")
    accounts = ExportAccountSerializer(many=True)
    entries = ExportEntrySerializer(many=True)


class LedgerExportView(APIView):
    """The community's whole chain as JSON, checkable offline with scripts/verify_ledger_export.py."""

    # Streamed: entries are read in chunks and sent as they are read, so a long chain
    # costs neither memory nor more queries (see chain.export_stream).

    @extend_schema(
        tags=["ledger"],
        parameters=[COMMUNITY_PARAM],
        responses={
            200: LedgerExportSerializer,
            400: FIELD_ERRORS,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def get(self, request):
        community = _community_for_member(request)
        response = StreamingHttpResponse(export_stream(community=community), content_type="application/json")
        response["Content-Disposition"] = f'inline; filename="ledger-{community.slug}.json"'
        return response
