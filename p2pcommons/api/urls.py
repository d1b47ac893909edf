"""The /api/v1/ router: every app's viewsets, under one versioned prefix."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from apps.codesign.api import ChallengeViewSet, IdeaViewSet, ProposalViewSet, TaskViewSet, VolunteerViewSet
from apps.ledger import log_api
from apps.ledger.api import AccountViewSet, LedgerExportView, LedgerVerifyView, TransferViewSet
from apps.moderation.api import FlagViewSet
from apps.notifications.api import NotificationPreferenceView, NotificationViewSet
from apps.peers.api import CommunityMemberViewSet, CommunityViewSet, MeView
from apps.reputation.api import ReviewViewSet
from apps.skills.api import CategoryViewSet, MatchViewSet, OfferViewSet, RequestViewSet, SessionViewSet
from apps.solar.api import (
    MeterViewSet,
    OrderViewSet,
    ReadingViewSet,
    SlotViewSet,
    StandingOrderViewSet,
    TradeViewSet,
)
from apps.tools.api import ReservationViewSet, ToolCategoryViewSet, ToolViewSet, WaitlistViewSet

router = DefaultRouter()
router.register("communities", CommunityViewSet, basename="community")
router.register("reviews", ReviewViewSet, basename="review")
router.register("ledger/accounts", AccountViewSet, basename="ledger-account")
router.register("ledger/transfers", TransferViewSet, basename="ledger-transfer")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("flags", FlagViewSet, basename="flag")
router.register("tools/categories", ToolCategoryViewSet, basename="tool-category")
router.register("tools", ToolViewSet, basename="tool")
router.register("reservations", ReservationViewSet, basename="reservation")
router.register("waitlist", WaitlistViewSet, basename="waitlist")
router.register("skills/categories", CategoryViewSet, basename="skill-category")
router.register("skills/offers", OfferViewSet, basename="skill-offer")
router.register("skills/requests", RequestViewSet, basename="skill-request")
router.register("skills/matches", MatchViewSet, basename="skill-match")
router.register("skills/sessions", SessionViewSet, basename="skill-session")
router.register("solar/meters", MeterViewSet, basename="solar-meter")
router.register("solar/readings", ReadingViewSet, basename="solar-reading")
router.register("solar/orders", OrderViewSet, basename="solar-order")
router.register("solar/standing-orders", StandingOrderViewSet, basename="solar-standing-order")
router.register("solar/slots", SlotViewSet, basename="solar-slot")
router.register("solar/trades", TradeViewSet, basename="solar-trade")
router.register("challenges", ChallengeViewSet, basename="challenge")
router.register("proposals", ProposalViewSet, basename="proposal")
router.register("ideas", IdeaViewSet, basename="idea")
router.register("tasks", TaskViewSet, basename="task")
router.register("volunteers", VolunteerViewSet, basename="volunteer")

member_list = CommunityMemberViewSet.as_view({"get": "list"})
member_promote = CommunityMemberViewSet.as_view({"post": "promote"})

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    # Listings and exchanges of neighbouring communities on other servers (apps/federation).
    path("federation/", include("apps.federation.api_urls")),
    path("ledger/verify/", LedgerVerifyView.as_view(), name="ledger-verify"),
    path("ledger/export/", LedgerExportView.as_view(), name="ledger-export"),
    path("", include(log_api.routes())),
    path("notifications/preferences/", NotificationPreferenceView.as_view(), name="notification-preferences"),
    path("communities/<id:community_pk>/members/", member_list, name="community-members"),
    path("communities/<id:community_pk>/members/<id:pk>/promote/", member_promote, name="community-member-promote"),
    path("", include("apps.front.api_urls")),
    path("", include("apps.privacy.api_urls")),
    path("", include("apps.privacy.api_urls_delete")),
    path("", include(router.urls)),
]
