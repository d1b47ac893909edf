"""REST API for identity and communities: /api/v1/me/ and /api/v1/communities/."""

from __future__ import annotations

from decimal import Decimal

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from p2pcommons.api.schema import FIELD_ERRORS, NOT_FOUND, conflicts
from p2pcommons.converters import IdConverter

from . import selectors, services
from .models import Community, JoinRequest, Membership, Profile


class PersonSerializer(serializers.Serializer):
    """Who someone is to other members: their id and the name they chose."""

    id = serializers.IntegerField(source="pk")
    display_name = serializers.CharField(source="public_name")


class WithTrust:
    """Adds ``trust``, the member's reputation (``apps.reputation.api.TrustSerializer``),
    to a profile serializer. Imported when the fields are built, not at module level:
    apps.reputation imports apps.peers everywhere, so the peer core must not import it
    back (this breaks the peers -> reputation import cycle)."""

    def get_fields(self):
        from apps.reputation.api import TrustSerializer

        fields = super().get_fields()
        fields["trust"] = TrustSerializer(source="user", read_only=True)
        return fields


class PublicProfileSerializer(WithTrust, serializers.ModelSerializer):
    """What any member may see about another."""

    id = serializers.IntegerField(source="user_id", read_only=True)

    class Meta:
        model = Profile
        fields = ("id", "display_name", "bio", "avatar", "neighborhood", "approx_latitude", "approx_longitude")
        read_only_fields = fields


class MyCommunitySerializer(serializers.Serializer):
    """One of my memberships, with its community's name: what an app lists under "my communities"."""

    id = serializers.IntegerField(source="community_id", help_text="The community's id.")
    slug = serializers.CharField(source="community.slug")
    name = serializers.CharField(source="community.name")
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    status = serializers.ChoiceField(choices=Membership.Status.choices)


class MyMembershipSerializer(serializers.Serializer):
    """My role and standing in a community."""

    role = serializers.ChoiceField(choices=Membership.Role.choices)
    status = serializers.ChoiceField(choices=Membership.Status.choices)


class MeSerializer(WithTrust, serializers.ModelSerializer):
    """The member's own profile, private fields included.

    ``latitude``/``longitude`` are write-only: they are rounded to about 500 m before
    they are stored, and the rounded values are what ``approx_*`` return.
    """

    id = serializers.IntegerField(source="user_id", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    latitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        min_value=Decimal("-90"),
        max_value=Decimal("90"),
        write_only=True,
        required=False,
    )
    longitude = serializers.DecimalField(
        max_digits=10,
        decimal_places=6,
        min_value=Decimal("-180"),
        max_value=Decimal("180"),
        write_only=True,
        required=False,
    )
    clear_location = serializers.BooleanField(write_only=True, required=False, default=False)
    communities = serializers.SerializerMethodField()

    class Meta:
        model = Profile
        fields = (
            "id",
            "email",
            "display_name",
            "bio",
            "avatar",
            "neighborhood",
            "approx_latitude",
            "approx_longitude",
            "latitude",
            "longitude",
            "clear_location",
            "exact_address",
            "phone",
            "language",
            "communities",
        )
        read_only_fields = ("approx_latitude", "approx_longitude", "avatar")
        extra_kwargs = {"display_name": {"required": False, "allow_blank": False}}

    def validate(self, attrs):
        if ("latitude" in attrs) != ("longitude" in attrs):
            raise serializers.ValidationError({"longitude": _("Give both latitude and longitude, or neither.")})
        return attrs

    @extend_schema_field(MyCommunitySerializer(many=True))
    def get_communities(self, profile: Profile) -> list[dict]:
        return MyCommunitySerializer(selectors.memberships_of(user=profile.user), many=True).data

    def update(self, instance: Profile, validated_data: dict) -> Profile:
        return services.profile_update(profile=instance, actor=self.context["request"].user, **validated_data)


class CommunitySerializer(serializers.ModelSerializer):
    member_count = serializers.IntegerField(read_only=True)
    my_membership = serializers.SerializerMethodField()

    class Meta:
        model = Community
        fields = (
            "id",
            "name",
            "slug",
            "description",
            "center_latitude",
            "center_longitude",
            "radius_km",
            "default_hour_limit",
            "default_credit_limit",
            "join_policy",
            "time_zone",
            "member_count",
            "my_membership",
            "created_at",
        )
        read_only_fields = fields

    @extend_schema_field(MyMembershipSerializer(allow_null=True))
    def get_my_membership(self, community: Community) -> dict | None:
        """My role and standing here; null when I am not a member."""
        mine = self.context.get("my_memberships", {}).get(community.pk)
        return MyMembershipSerializer(mine).data if mine else None


class JoinRequestSerializer(serializers.ModelSerializer):
    """A request to join a community that approves each newcomer."""

    person = PersonSerializer(source="user", read_only=True)

    class Meta:
        model = JoinRequest
        fields = ("id", "community", "person", "message", "status", "created_at", "decided_at")
        read_only_fields = ("id", "community", "person", "status", "created_at", "decided_at")
        extra_kwargs = {"message": {"required": False, "allow_blank": True, "max_length": 1000}}


class MembershipSerializer(serializers.ModelSerializer):
    member = PublicProfileSerializer(source="user.profile", read_only=True)

    class Meta:
        model = Membership
        fields = ("id", "member", "role", "status", "joined_at")
        read_only_fields = fields


@extend_schema_view(
    get=extend_schema(tags=["me"]),
    put=extend_schema(tags=["me"], responses={200: MeSerializer, 400: FIELD_ERRORS}),
    patch=extend_schema(tags=["me"], responses={200: MeSerializer, 400: FIELD_ERRORS}),
)
class MeView(generics.RetrieveUpdateAPIView):
    """Read and update your own profile (private fields included)."""

    serializer_class = MeSerializer

    def get_object(self) -> Profile:
        return services.profile_ensure(user=self.request.user)


@extend_schema_view(
    list=extend_schema(summary="List communities", tags=["communities"]),
    retrieve=extend_schema(
        summary="A community", tags=["communities"], responses={200: CommunitySerializer, 404: NOT_FOUND}
    ),
)
class CommunityViewSet(viewsets.ReadOnlyModelViewSet):
    """Communities, with join, leave and their member list."""

    serializer_class = CommunitySerializer
    queryset = Community.objects.none()
    lookup_value_regex = IdConverter.regex

    def get_queryset(self):
        return selectors.community_list()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["my_memberships"] = {m.community_id: m for m in selectors.memberships_of(user=self.request.user)}
        return context

    @extend_schema(
        request=None,
        responses={
            200: MembershipSerializer,
            201: MembershipSerializer,
            404: NOT_FOUND,
            409: conflicts("approval_required"),
        },
        tags=["communities"],
    )
    @action(detail=True, methods=["post"])
    def join(self, request, pk=None):
        """Join this community as a member (joining twice is harmless)."""
        community = self.get_object()
        existed = selectors.membership_of(user=request.user, community=community) is not None
        membership = services.community_join(community=community, user=request.user)
        return Response(
            MembershipSerializer(membership, context=self.get_serializer_context()).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )

    @extend_schema(
        methods=["GET"],
        summary="Requests to join (organizers of the community)",
        responses={200: JoinRequestSerializer(many=True), 404: NOT_FOUND},
        tags=["communities"],
    )
    @extend_schema(
        methods=["POST"],
        summary="Ask to join a community whose organizers approve each newcomer",
        request=JoinRequestSerializer,
        responses={
            201: JoinRequestSerializer,
            400: FIELD_ERRORS,
            404: NOT_FOUND,
            409: conflicts("open_community", "already_member"),
        },
        tags=["communities"],
    )
    @action(detail=True, methods=["get", "post"], url_path="join-requests")
    def join_requests(self, request, pk=None):
        """GET: the community's requests to join, for its organizers. POST: ask to join,
        with an optional ``message`` to the organizers (asking twice returns the open request)."""
        community = self.get_object()
        if request.method == "POST":
            serializer = JoinRequestSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            join_request = services.join_request_create(
                community=community, user=request.user, message=serializer.validated_data.get("message", "")
            )
            return Response(JoinRequestSerializer(join_request).data, status=status.HTTP_201_CREATED)
        self._require_organizer(community)
        page = self.paginate_queryset(selectors.join_requests_for(community=community))
        return self.get_paginated_response(JoinRequestSerializer(page, many=True).data)

    @extend_schema(
        request=None,
        responses={200: MembershipSerializer, 404: NOT_FOUND, 409: conflicts("not_organizer", "already_decided")},
        tags=["communities"],
        summary="Approve a request to join (organizers)",
    )
    @action(detail=True, methods=["post"], url_path=rf"join-requests/(?P<request_pk>{IdConverter.regex})/approve")
    def approve_join_request(self, request, pk=None, request_pk=None):
        """Approve: the person becomes a member and is told."""
        join_request = self._join_request(request_pk)
        membership = services.join_request_approve(join_request=join_request, actor=request.user)
        return Response(MembershipSerializer(membership, context=self.get_serializer_context()).data)

    @extend_schema(
        request=None,
        responses={200: JoinRequestSerializer, 404: NOT_FOUND, 409: conflicts("not_organizer", "already_decided")},
        tags=["communities"],
        summary="Decline a request to join (organizers)",
    )
    @action(detail=True, methods=["post"], url_path=rf"join-requests/(?P<request_pk>{IdConverter.regex})/decline")
    def decline_join_request(self, request, pk=None, request_pk=None):
        """Decline: the person is told and may ask again later."""
        join_request = self._join_request(request_pk)
        return Response(
            JoinRequestSerializer(services.join_request_decline(join_request=join_request, actor=request.user)).data
        )

    def _require_organizer(self, community: Community) -> None:
        # Not an organizer here: the requests don't exist for them (404, as for a missing one).
        if not selectors.is_organizer(user=self.request.user, community_id=community.pk):
            raise Http404

    def _join_request(self, request_pk) -> JoinRequest:
        community = self.get_object()
        self._require_organizer(community)
        return get_object_or_404(
            JoinRequest.objects.select_related("user__profile"), pk=request_pk, community=community
        )

    @extend_schema(
        request=None,
        responses={204: None, 404: NOT_FOUND, 409: conflicts("not_member", "suspended", "last_organizer")},
        tags=["communities"],
    )
    @action(detail=True, methods=["post"])
    def leave(self, request, pk=None):
        """Leave this community. The last organizer can't leave."""
        services.community_leave(community=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        summary="Members of a community",
        tags=["communities"],
        responses={200: MembershipSerializer(many=True), 404: NOT_FOUND},
    )
)
class CommunityMemberViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Members of a community, public profile fields only."""

    serializer_class = MembershipSerializer
    queryset = Membership.objects.none()

    def get_queryset(self):
        # Members' profiles are seen only by fellow members (and site superusers): for
        # anyone else the list does not exist.
        community = get_object_or_404(Community, pk=self.kwargs["community_pk"])
        user = self.request.user
        if not (user.is_superuser or selectors.is_active_member(user=user, community=community)):
            raise Http404
        return selectors.community_members(community=community)

    @extend_schema(
        request=None,
        responses={200: MembershipSerializer, 404: NOT_FOUND, 409: conflicts("not_organizer", "suspended")},
        tags=["communities"],
    )
    @action(detail=True, methods=["post"])
    def promote(self, request, community_pk=None, pk=None):
        """Make this member an organizer (organizers of the community only)."""
        membership = get_object_or_404(Membership, pk=pk, community_id=community_pk)
        membership = services.membership_promote(membership=membership, actor=request.user)
        return Response(MembershipSerializer(membership, context=self.get_serializer_context()).data)
