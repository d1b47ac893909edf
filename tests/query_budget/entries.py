"""The table of every page and list endpoint with its query budget.

Each entry names a URL (by its name in the URL conf or the API router), how to build its
address, how to add ``n`` rows the persona sees (rows.py: distinct owners and
counterparties), who looks, and how many queries it runs: the same at 1 and 50 rows,
with the session cookie or the app's session token alike. A new page or list endpoint
without an entry fails ``test_every_page_and_list_endpoint_has_a_budget``; a URL that
shows nothing by GET goes in ``NOT_PAGES`` with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from apps.codesign.factories import ProjectFactory, ProposalFactory, VolunteerFactory
from apps.codesign.models import Challenge
from apps.ledger import services as ledger
from apps.moderation.models import Flag
from apps.notifications.models import Notification
from apps.notifications.services import unsubscribe_url
from apps.privacy.export import export_request
from apps.skills.factories import OfferFactory, RequestFactory, SessionFactory
from apps.skills.models import Match
from apps.solar.models import Order, StandingOrder, Trade
from apps.tools.factories import ReservationFactory, ToolFactory
from apps.tools.models import WaitlistEntry

from . import rows
from .world import World

# API lists may cost at most this many queries, with either authentication (issue 17).
API_LIST_BUDGET = 7


@dataclass(frozen=True)
class Entry:
    """One page or endpoint: ``queries`` is its pinned count with the persona signed in."""

    name: str
    url: Callable[[World], str]
    rows: Callable[[World, int], None]
    queries: int
    persona: str = "member"
    setup: Callable[[World], object] | None = None
    is_list: bool = True

    @property
    def id(self) -> str:
        return self.name


def _setup_transfer(world: World):
    rows.transfers_to_member(world, 1)
    return ledger.account_for(user=world.member, community=world.community, currency="HOUR")


def _setup_tool(world: World):
    return ToolFactory(owner=world.neighbour(), community=world.community)


def _setup_loan(world: World):
    return ReservationFactory(tool=_setup_tool(world), borrower=world.member)


def _setup_waitlist(world: World):
    rows.waitlist_of_member(world, 1)
    return WaitlistEntry.objects.get(member=world.member)


def _setup_offer(world: World):
    return OfferFactory(member=world.neighbour(), community=world.community)


def _setup_request(world: World):
    return RequestFactory(member=world.neighbour(), community=world.community)


def _setup_match(world: World):
    rows.matches_of_member(world, 1)
    return Match.objects.get()


def _setup_session(world: World):
    return SessionFactory(helper=world.member, community=world.community, capacity=60)


def _setup_meter(world: World):
    meter = rows._meter(world, world.member)
    world.extra["meter"] = meter
    return meter


def _setup_slot(world: World):
    rows.open_slots(world, 1)
    return Order.objects.get().slot


def _setup_order(world: World):
    rows.my_orders(world, 1)
    return Order.objects.get(member=world.member)


def _setup_standing(world: World):
    rows.my_standing_orders(world, 1)
    return StandingOrder.objects.get()


def _setup_trade(world: World):
    rows.trades_of_member(world, 1)
    return Trade.objects.get()


def _challenge(phase: str) -> Callable[[World], Challenge]:
    return lambda world: rows.challenge(world, phase)


def _setup_proposal(world: World):
    return ProposalFactory(challenge=rows.challenge(world, Challenge.Phase.PROPOSALS))


def _setup_project(world: World):
    return ProjectFactory(proposal__challenge__community=world.community).challenge


def _setup_volunteer(world: World):
    project = ProjectFactory(proposal__challenge__community=world.community)
    return VolunteerFactory(task__project=project, member=world.member)


def _setup_export(world: World):
    return export_request(user=world.member)


def _setup_notification(world: World):
    rows.notifications(world, 1)
    return Notification.objects.get()


def _setup_flag(world: World):
    rows.flags(world, 1)
    return Flag.objects.get()


# --- ledger log (members) ---
def _signed_transfers(world: World, n: int) -> None:
    """``n`` transfers to the member, each signed in a checkpoint that a neighbouring
    community's witness key co-signs (so every checkpoint listed has a co-signature)."""
    from apps.ledger import log
    from apps.ledger.checkpoint import cosign_note
    from apps.ledger.models import Chain
    from apps.peers.factories import CommunityFactory

    witness = world.extra.get("witness") or world.extra.setdefault("witness", CommunityFactory())
    signer = log.witness_signer(witness)
    for _ in range(n):
        rows.transfers_to_member(world, 1)
        checkpoint = log.publish_checkpoint(community=world.community)
        vkey = Chain.objects.get(community=world.community).log_vkey
        cosigned = cosign_note(checkpoint.note, [signer], [vkey])
        log.add_cosignature(checkpoint=checkpoint, name=signer.name, vkey=signer.verifier.vkey, cosigned_note=cosigned)


def _cosigned_first_checkpoint(world: World, n: int) -> None:
    """``n`` neighbouring communities co-sign the checkpoint that proves entry 1 (named on its page)."""
    from apps.ledger import log
    from apps.ledger.checkpoint import cosign_note
    from apps.ledger.models import Chain, Checkpoint, LogWitness
    from apps.peers.factories import CommunityFactory

    checkpoint = Checkpoint.objects.get(community=world.community, number=1)
    vkey = Chain.objects.get(community=world.community).log_vkey
    for _ in range(n):
        signer = log.witness_signer(CommunityFactory())
        LogWitness.objects.create(community=world.community, name=signer.name, vkey=signer.verifier.vkey)
        cosigned = cosign_note(checkpoint.note, [signer], [vkey])
        log.add_cosignature(checkpoint=checkpoint, name=signer.name, vkey=signer.verifier.vkey, cosigned_note=cosigned)


def _setup_signed(world: World):
    """One transfer (entries 1 and 2) in checkpoint 1, of size 2."""
    _signed_transfers(world, 1)
    return world.community


def _pk(prefix: str, suffix: str = "") -> Callable[[World], str]:
    return lambda world: f"{prefix}{world.subject.pk}/{suffix}"


API = "/api/v1/"
C = "community"

ENTRIES: list[Entry] = [
    # --- the API: peers, core -------------------------------------------------------------
    Entry("api-root", lambda w: API, rows.none, 2, is_list=False),
    Entry("me", lambda w: f"{API}me/", rows.communities, 6, is_list=False),
    Entry("community-list", lambda w: f"{API}communities/", rows.communities, 5),
    Entry("community-detail", lambda w: f"{API}communities/{w.community.pk}/", rows.members, 4, is_list=False),
    Entry("community-members", lambda w: f"{API}communities/{w.community.pk}/members/", rows.members, 6),
    Entry(
        "community-join-requests",
        lambda w: f"{API}communities/{w.community.pk}/join-requests/",
        rows.join_requests,
        6,
        persona="organizer",
    ),
    Entry("community-exchanges", lambda w: f"{API}communities/{w.community.pk}/exchanges/", rows.none, 5),
    Entry("blueprint-list", lambda w: f"{API}blueprints/", rows.none, 2),
    # One query per kind it searches (tools, offers, requests, challenges, proposals, people)
    # after the exchanges in use: over the list budget of 7 by 3, not a page of one list.
    Entry(
        "search", lambda w: f"{API}search/?q=drill", rows.tools, 12, is_list=False
    ),  # 12: remote listings (federation)
    Entry(
        "me-dashboard", lambda w: f"{API}me/dashboard/", rows.loans_of_member, 36, is_list=False
    ),  # 36: loans with other communities to review
    Entry("me-export", lambda w: f"{API}me/export/", rows.none, 3, setup=_setup_export, is_list=False),
    Entry("me-delete", lambda w: f"{API}me/delete/", rows.loans_of_member, 25, is_list=False),
    Entry("review-list", lambda w: f"{API}reviews/?subject={w.member.pk}", rows.reviews_of_member, 4),
    Entry("ledger-account-list", lambda w: f"{API}ledger/accounts/", rows.accounts, 5, persona="organizer"),
    Entry(
        "ledger-account-detail",
        _pk(f"{API}ledger/accounts/"),
        rows.transfers_to_member,
        4,
        setup=_setup_transfer,
        is_list=False,
    ),
    Entry("ledger-transfer-list", lambda w: f"{API}ledger/transfers/", rows.transfers_to_member, 5),
    Entry(
        "ledger-transfer-detail",
        lambda w: f"{API}ledger/transfers/{w.subject.entries.first().transfer_id}/",
        rows.transfers_to_member,
        4,
        setup=_setup_transfer,
        is_list=False,
    ),
    Entry(
        "ledger-verify",
        lambda w: f"{API}ledger/verify/?community={w.community.pk}",
        rows.transfers_to_member,
        5,
        is_list=False,
    ),
    Entry(
        "ledger-export",
        lambda w: f"{API}ledger/export/?community={w.community.pk}",
        rows.transfers_to_member,
        10,
        is_list=False,
    ),
    # --- ledger log (members) ---
    Entry("ledger-log", _pk(f"{API}ledger/logs/"), _signed_transfers, 6, setup=_setup_signed, is_list=False),
    Entry("ledger-log-checkpoints", lambda w: f"{API}ledger/logs/{w.community.pk}/checkpoints/", _signed_transfers, 6),
    Entry(
        "ledger-log-checkpoint",
        _pk(f"{API}ledger/logs/", "checkpoints/1/"),
        _cosigned_first_checkpoint,
        5,
        setup=_setup_signed,
        is_list=False,
    ),
    Entry(
        "ledger-log-consistency",
        _pk(f"{API}ledger/logs/", "consistency/?first=2&second=2"),
        _signed_transfers,
        7,
        setup=_setup_signed,
        is_list=False,
    ),
    Entry(
        "ledger-log-inclusion",
        _pk(f"{API}ledger/logs/", "inclusion/?seq=1"),
        _signed_transfers,
        8,
        setup=_setup_signed,
        is_list=False,
    ),
    Entry(
        "ledger-log-leaves",
        _pk(f"{API}ledger/logs/", "leaves/?start=0&end=2"),
        _signed_transfers,
        6,
        setup=_setup_signed,
        is_list=False,
    ),
    Entry("notification-list", lambda w: f"{API}notifications/", rows.notifications, 4),
    Entry(
        "notification-detail",
        _pk(f"{API}notifications/"),
        rows.notifications,
        3,
        setup=_setup_notification,
        is_list=False,
    ),
    Entry("notification-preferences", lambda w: f"{API}notifications/preferences/", rows.none, 4),
    Entry("flag-list", lambda w: f"{API}flags/", rows.flags, 4, persona="organizer"),
    Entry("flag-detail", _pk(f"{API}flags/"), rows.flags, 3, persona="organizer", setup=_setup_flag, is_list=False),
    # --- the API: tools --------------------------------------------------------------------
    Entry("tool-category-list", lambda w: f"{API}tools/categories/", rows.tool_categories, 3),
    Entry("tool-list", lambda w: f"{API}tools/", rows.tools, 6),
    Entry("tool-detail", _pk(f"{API}tools/"), rows.reservations_of_tool, 5, setup=_setup_tool, is_list=False),
    Entry("tool-availability", _pk(f"{API}tools/", "availability/"), rows.reservations_of_tool, 6, setup=_setup_tool),
    Entry("reservation-list", lambda w: f"{API}reservations/", rows.loans_of_member, 6),
    Entry("reservation-detail", _pk(f"{API}reservations/"), rows.loans_of_member, 5, setup=_setup_loan, is_list=False),
    Entry("waitlist-list", lambda w: f"{API}waitlist/", rows.waitlist_of_member, 4),
    Entry("waitlist-detail", _pk(f"{API}waitlist/"), rows.waitlist_of_member, 3, setup=_setup_waitlist, is_list=False),
    # --- the API: skills -------------------------------------------------------------------
    Entry("skill-category-list", lambda w: f"{API}skills/categories/", rows.skill_categories, 4),
    Entry("skill-offer-list", lambda w: f"{API}skills/offers/", rows.offers, 7),
    Entry("skill-offer-detail", _pk(f"{API}skills/offers/"), rows.offers, 6, setup=_setup_offer, is_list=False),
    Entry("skill-request-list", lambda w: f"{API}skills/requests/", rows.skill_requests, 6),
    Entry(
        "skill-request-detail",
        _pk(f"{API}skills/requests/"),
        rows.skill_requests,
        5,
        setup=_setup_request,
        is_list=False,
    ),
    Entry("skill-match-list", lambda w: f"{API}skills/matches/", rows.matches_of_member, 4),
    Entry(
        "skill-match-detail", _pk(f"{API}skills/matches/"), rows.matches_of_member, 3, setup=_setup_match, is_list=False
    ),
    Entry("skill-session-list", lambda w: f"{API}skills/sessions/", rows.sessions_of_member, 5),
    Entry(
        "skill-session-detail",
        _pk(f"{API}skills/sessions/"),
        rows.seats_of_session,
        4,
        setup=_setup_session,
        is_list=False,
    ),
    # --- the API: solar --------------------------------------------------------------------
    Entry("solar-meter-list", lambda w: f"{API}solar/meters/", rows.my_meters, 4),
    Entry("solar-meter-detail", _pk(f"{API}solar/meters/"), rows.my_readings, 3, setup=_setup_meter, is_list=False),
    Entry("solar-meter-tokens", _pk(f"{API}solar/meters/", "tokens/"), rows.tokens_of_meter, 5, setup=_setup_meter),
    Entry("solar-reading-list", lambda w: f"{API}solar/readings/", rows.my_readings, 4),
    Entry("solar-order-list", lambda w: f"{API}solar/orders/", rows.my_orders, 4),
    Entry("solar-order-detail", _pk(f"{API}solar/orders/"), rows.my_orders, 3, setup=_setup_order, is_list=False),
    Entry("solar-standing-order-list", lambda w: f"{API}solar/standing-orders/", rows.my_standing_orders, 4),
    Entry(
        "solar-standing-order-detail",
        _pk(f"{API}solar/standing-orders/"),
        rows.my_standing_orders,
        3,
        setup=_setup_standing,
        is_list=False,
    ),
    Entry("solar-slot-list", lambda w: f"{API}solar/slots/", rows.open_slots, 4),
    Entry("solar-slot-detail", _pk(f"{API}solar/slots/"), rows.book_of_slot, 5, setup=_setup_slot, is_list=False),
    Entry("solar-trade-list", lambda w: f"{API}solar/trades/", rows.trades_of_member, 4),
    Entry(
        "solar-trade-detail", _pk(f"{API}solar/trades/"), rows.trades_of_member, 3, setup=_setup_trade, is_list=False
    ),
    # --- the API: co-design ----------------------------------------------------------------
    Entry("challenge-list", lambda w: f"{API}challenges/", rows.challenges, 4),
    Entry(
        "challenge-detail",
        _pk(f"{API}challenges/"),
        rows.ideas_of_challenge,
        8,
        setup=_challenge(Challenge.Phase.IDEAS),
        is_list=False,
    ),
    Entry(
        "challenge-ideas",
        _pk(f"{API}challenges/", "ideas/"),
        rows.ideas_of_challenge,
        5,
        setup=_challenge(Challenge.Phase.IDEAS),
    ),
    Entry(
        "challenge-comments",
        _pk(f"{API}challenges/", "comments/"),
        rows.comments_of_challenge,
        5,
        setup=_challenge(Challenge.Phase.PROPOSALS),
    ),
    Entry(
        "challenge-proposals",
        _pk(f"{API}challenges/", "proposals/"),
        rows.proposals_of_challenge,
        7,
        setup=_challenge(Challenge.Phase.PROPOSALS),
    ),
    Entry(
        "challenge-ballot",
        _pk(f"{API}challenges/", "ballot/"),
        rows.proposals_of_challenge,
        5,
        setup=_challenge(Challenge.Phase.VOTING),
        is_list=False,
    ),
    Entry(
        "challenge-results",
        _pk(f"{API}challenges/", "results/"),
        rows.proposals_of_challenge,
        7,
        setup=_challenge(Challenge.Phase.BUILDING),
        is_list=False,
    ),
    Entry("challenge-tasks", _pk(f"{API}challenges/", "tasks/"), rows.tasks_of_project, 7, setup=_setup_project),
    Entry(
        "proposal-detail", _pk(f"{API}proposals/"), rows.comments_of_proposal, 10, setup=_setup_proposal, is_list=False
    ),
    Entry(
        "proposal-comments", _pk(f"{API}proposals/", "comments/"), rows.comments_of_proposal, 5, setup=_setup_proposal
    ),
    Entry(
        "task-detail", lambda w: f"{API}tasks/{w.subject.task_id}/", rows.none, 5, setup=_setup_volunteer, is_list=False
    ),
    Entry("volunteer-detail", _pk(f"{API}volunteers/"), rows.none, 4, setup=_setup_volunteer, is_list=False),
]

# URL names that show nothing by GET, or are not pages of the site: why each is left out.
NOT_PAGES: dict[str, str] = {
    "ledger-log:cosignature": "a witness's POST inbox (machine protocol), nothing to show by GET",
    "me-export-download": "a file download of one prepared export, not a page",
}


def _setup_unsubscribe(world: World):
    return unsubscribe_url(user=world.member, kind="ledger.received")


def _setup_my_offer(world: World):
    return OfferFactory(member=world.member, community=world.community)


def _setup_my_request(world: World):
    return RequestFactory(member=world.member, community=world.community)


def _setup_my_tool(world: World):
    return ToolFactory(owner=world.member, community=world.community)


def _setup_my_proposal(world: World):
    return ProposalFactory(challenge=rows.challenge(world, Challenge.Phase.PROPOSALS), author=world.member)


def _setup_open_order(world: World):
    return _setup_order(world)


def _u(path: str) -> Callable[[World], str]:
    return lambda world: path


def _p(template: str) -> Callable[[World], str]:
    """An address with the subject's id (``{pk}``) or the community's slug (``{slug}``)."""
    return lambda world: template.format(
        pk=getattr(world.subject, "pk", None), slug=world.community.slug, member=world.member.pk
    )


PAGES: list[Entry] = [
    # --- the front door and the core ------------------------------------------------------
    Entry("front:home", _u("/"), rows.loans_of_member, 39, is_list=False),  # 39: loans with other communities to review
    Entry("front:guide", _u("/guide/"), rows.none, 3, is_list=False),
    Entry("front:blueprint", _u("/blueprints/tools/"), rows.tools, 5, is_list=False),
    Entry("front:search", _u("/search/?q=drill"), rows.tools, 13),  # 13: remote listings
    Entry("peers:list", _u("/communities/"), rows.communities, 7),
    Entry("peers:community", _p("/c/{slug}/"), rows.members, 14),  # 14: the ledger's signing key (ledger log)
    Entry("peers:profile", _p("/people/{member}/"), rows.reviews_of_member, 15, is_list=False),
    Entry("peers:profile-edit", _u("/me/"), rows.none, 4, is_list=False),
    Entry("peers:about-developers", _u("/about/developers/"), rows.none, 3, is_list=False),
    Entry("peers:community-leave", _p("/c/{slug}/leave/"), rows.none, 5, is_list=False),
    Entry("ledger:mine", _u("/ledger/"), rows.transfers_to_member, 11),
    Entry("ledger:community", _p("/ledger/c/{slug}/"), rows.transfers_to_member, 7),
    # --- ledger log (members) ---
    Entry(
        "ledger:entry-proof",
        _p("/ledger/c/{slug}/entry/1/"),
        _cosigned_first_checkpoint,
        10,
        setup=_setup_signed,
        is_list=False,
    ),
    # --- ledger log (witness protocol): public, for neighbouring servers ---
    Entry(
        "ledger-log:discovery",
        _p("/.well-known/p2pcommons-log/{slug}/"),
        rows.transfers_to_member,
        4,
        setup=_setup_signed,
        is_list=False,
    ),
    Entry(
        "ledger-log:checkpoint",
        _p("/.well-known/p2pcommons-log/{slug}/checkpoint"),
        rows.transfers_to_member,
        4,
        setup=_setup_signed,
        is_list=False,
    ),
    Entry(
        "ledger-log:consistency",
        _p("/.well-known/p2pcommons-log/{slug}/consistency/2/2"),
        rows.transfers_to_member,
        3,
        setup=_setup_signed,
        is_list=False,
    ),
    Entry("notifications:list", _u("/notifications/"), rows.notifications, 5),
    Entry("notifications:bell", _u("/notifications/bell/"), rows.notifications, 3),
    Entry("notifications:preferences", _u("/notifications/preferences/"), rows.none, 5, is_list=False),
    Entry("notifications:unsubscribe", lambda w: w.subject, rows.none, 3, setup=_setup_unsubscribe, is_list=False),
    Entry("privacy:page", _u("/me/data/"), rows.none, 4, is_list=False),
    Entry("privacy:status", _u("/me/data/status/"), rows.none, 3, setup=_setup_export, is_list=False),
    Entry("account_delete:start", _u("/me/delete/"), rows.loans_of_member, 26, is_list=False),
    # --- tools ----------------------------------------------------------------------------
    Entry("tools:list", _u("/tools/"), rows.tools, 9),  # 9: remote listings
    Entry("tools:create", _u("/tools/new/"), rows.none, 7, is_list=False),
    Entry("tools:mine", _u("/tools/mine/"), rows.my_tools, 6),
    Entry("tools:loans", _u("/tools/loans/"), rows.loans_of_member, 6),
    Entry("tools:requests", _u("/tools/requests/"), rows.requests_to_member, 6),
    Entry("tools:waitlist", _u("/tools/waitlist/"), rows.waitlist_of_member, 6),
    Entry("tools:loan", _p("/tools/loans/{pk}/"), rows.loans_of_member, 7, setup=_setup_loan, is_list=False),
    Entry("tools:detail", _p("/tools/{pk}/"), rows.reservations_of_tool, 7, setup=_setup_tool, is_list=False),
    Entry("tools:edit", _p("/tools/{pk}/edit/"), rows.none, 6, setup=_setup_my_tool, is_list=False),
    Entry("tools:retire", _p("/tools/{pk}/retire/"), rows.none, 5, setup=_setup_my_tool, is_list=False),
    Entry("tools:photos", _p("/tools/{pk}/photos/"), rows.none, 5, setup=_setup_my_tool, is_list=False),
    # --- skills ---------------------------------------------------------------------------
    Entry("skills:directory", _u("/skills/"), rows.offers, 15),  # 15: remote listings
    Entry("skills:mine", _u("/skills/mine/"), rows.my_listings, 12),
    Entry("skills:matches", _u("/skills/matches/"), rows.matches_of_member, 5),
    Entry("skills:offer-create", _u("/skills/offers/new/"), rows.none, 8, is_list=False),
    Entry("skills:offer", _p("/skills/offers/{pk}/"), rows.offers, 8, setup=_setup_offer, is_list=False),
    Entry("skills:offer-edit", _p("/skills/offers/{pk}/edit/"), rows.none, 10, setup=_setup_my_offer, is_list=False),
    Entry("skills:request-create", _u("/skills/requests/new/"), rows.none, 8, is_list=False),
    Entry("skills:request", _p("/skills/requests/{pk}/"), rows.skill_requests, 7, setup=_setup_request, is_list=False),
    Entry(
        "skills:request-edit", _p("/skills/requests/{pk}/edit/"), rows.none, 9, setup=_setup_my_request, is_list=False
    ),
    Entry("skills:sessions", _u("/skills/sessions/"), rows.sessions_of_member, 10),
    Entry("skills:group-session-create", _u("/skills/sessions/new-group/"), rows.none, 7, is_list=False),
    Entry(
        "skills:session", _p("/skills/sessions/{pk}/"), rows.seats_of_session, 6, setup=_setup_session, is_list=False
    ),
    # --- solar ----------------------------------------------------------------------------
    Entry("solar:market", _u("/solar/"), rows.open_slots, 9),
    Entry("solar:slot", _p("/solar/slots/{pk}/"), rows.book_of_slot, 8, setup=_setup_slot, is_list=False),
    Entry("solar:orders", _u("/solar/orders/"), rows.my_orders, 7),
    Entry("solar:order-create", _u("/solar/orders/new/"), rows.none, 7, setup=_setup_meter, is_list=False),
    Entry("solar:order-change", _p("/solar/orders/{pk}/change/"), rows.none, 4, setup=_setup_open_order, is_list=False),
    Entry("solar:standing-create", _u("/solar/standing/new/"), rows.none, 7, setup=_setup_meter, is_list=False),
    Entry("solar:meters", _u("/solar/meters/"), rows.my_meters, 4),
    Entry("solar:meter-create", _u("/solar/meters/new/"), rows.none, 6, is_list=False),
    Entry("solar:meter", _p("/solar/meters/{pk}/"), rows.tokens_of_meter, 7, setup=_setup_meter, is_list=False),
    Entry("solar:meter-retire", _p("/solar/meters/{pk}/retire/"), rows.none, 4, setup=_setup_meter, is_list=False),
    Entry("solar:trades", _u("/solar/trades/"), rows.trades_of_member, 5),
    # --- co-design ------------------------------------------------------------------------
    Entry("codesign:list", _u("/design/"), rows.challenges, 6),
    Entry("codesign:challenge-create", _u("/design/new/"), rows.none, 6, persona="organizer", is_list=False),
    Entry(
        "codesign:challenge",
        _p("/design/{pk}/"),
        rows.ideas_of_challenge,
        17,
        setup=_challenge(Challenge.Phase.IDEAS),
        is_list=False,
    ),
    Entry(
        "codesign:proposals",
        _p("/design/{pk}/proposals/"),
        rows.proposals_of_challenge,
        10,
        setup=_challenge(Challenge.Phase.PROPOSALS),
    ),
    Entry(
        "codesign:proposal-create",
        _p("/design/{pk}/proposals/new/"),
        rows.none,
        6,
        setup=_challenge(Challenge.Phase.PROPOSALS),
        is_list=False,
    ),
    Entry(
        "codesign:proposal",
        _p("/design/proposals/{pk}/"),
        rows.comments_of_proposal,
        15,
        setup=_setup_proposal,
        is_list=False,
    ),
    Entry(
        "codesign:proposal-edit",
        _p("/design/proposals/{pk}/edit/"),
        rows.none,
        8,
        setup=_setup_my_proposal,
        is_list=False,
    ),
    Entry(
        "codesign:ballot",
        _p("/design/{pk}/vote/"),
        rows.proposals_of_challenge,
        7,
        setup=_challenge(Challenge.Phase.VOTING),
        is_list=False,
    ),
    Entry(
        "codesign:results",
        _p("/design/{pk}/results/"),
        rows.proposals_of_challenge,
        7,
        setup=_challenge(Challenge.Phase.BUILDING),
        is_list=False,
    ),
    Entry("codesign:board", _p("/design/{pk}/build/"), rows.tasks_of_project, 11, setup=_setup_project, is_list=False),
]
ENTRIES += PAGES

NOT_PAGES.update(
    dict.fromkeys(
        (
            "moderation:report",
            "notifications:read",
            "notifications:read-all",
            "peers:community-join",
            "peers:join-request-withdraw",
            "peers:member-promote",
            "peers:language",
            "tools:book",
            "tools:waitlist-join",
            "tools:waitlist-accept",
            "tools:waitlist-withdraw",
            "tools:pause",
            "tools:resume",
            "tools:photo-remove",
            "tools:loan-action",
            "tools:loan-condition",
            "skills:offer-close",
            "skills:offer-reopen",
            "skills:offer-renew",
            "skills:request-close",
            "skills:request-reopen",
            "skills:session-accept",
            "skills:session-cancel",
            "skills:session-join",
            "skills:session-leave",
            "skills:seat-confirm",
            "skills:seat-dispute",
            "solar:slot-cancel",
            "solar:order-cancel",
            "solar:standing-step",
            "solar:reading-create",
            "solar:reading-upload",
            "solar:token-create",
            "solar:token-revoke",
            "codesign:challenge-step",
            "codesign:challenge-follow",
            "codesign:challenge-photo-add",
            "codesign:idea-post",
            "codesign:idea-plus-one",
            "codesign:proposal-photo-add",
            "codesign:proposal-step",
            "codesign:proposal-answer",
            "codesign:proposal-coauthor",
            "codesign:comment-post",
            "codesign:task-create",
            "codesign:budget-spend",
            "codesign:task-join",
            "codesign:volunteer-step",
            "privacy:prepare",
            "front:suggestion-dismiss",
        ),
        "answers POST only (a button or form sends it); the page it comes from is budgeted",
    )
)
NOT_PAGES.update(
    {
        "privacy:download": "a file download of one prepared export (a signed link), not a page",
        "account_delete:done": "the goodbye page after the account is gone: nobody is signed in to count",
        "reputation:review-create": "the review form of one finished exchange (tests/reputation/test_views.py)",
        "media": "uploaded files, served by the web server in production",
        "community-exchange": "answers DELETE only (an organizer stops an exchange)",
        "skills:session-create": "the proposal form of one offer or request (?offer=, ?request=): from its page",
        "front:blueprint-use": "redirects to the blueprint page, where the form is; POST starts the exchange",
    }
)


# --- neighbouring communities on other servers (apps/federation) -------------------------------
def _fed():
    from tests.federation import test_pages as fed

    return fed


def _setup_federated(world: World):
    world.extra["local"] = _fed().local_actor(world.community)
    return world.extra["local"]


def _local(world: World):
    return world.extra.get("local") or _setup_federated(world)


def _follow_requests(world: World, n: int) -> None:
    """Pending requests to follow, each from another community on its own server."""
    fed = _fed()
    for _ in range(n):
        k = world.next()
        fed.follow(_local(world), fed.remote_group(f"Street {k}", f"s{k}", f"s{k}.example"), direction="in",
                   state="pending")  # fmt: skip


def _followers(world: World, n: int) -> None:
    fed = _fed()
    for _ in range(n):
        k = world.next()
        fed.follow(_local(world), fed.remote_group(f"Street {k}", f"s{k}", f"s{k}.example"), direction="in")


def _remote_listings(world: World, n: int) -> None:
    for _ in range(n):
        _fed().neighbour_listing(_local(world))


def _remote_exchanges(world: World, n: int) -> None:
    fed = _fed()
    for _ in range(n):
        fed.exchange(_local(world), world.member, fed.neighbour_listing(_local(world)))


def _setup_remote_listing(world: World):
    _setup_federated(world)
    return _fed().neighbour_listing(world.extra["local"])


def _setup_remote_exchange(world: World):
    _setup_federated(world)
    fed = _fed()
    return fed.exchange(world.extra["local"], world.member, fed.neighbour_listing(world.extra["local"]))


def _setup_follow_out(world: World):
    _setup_federated(world)
    fed = _fed()
    return fed.follow(world.extra["local"], fed.remote_group())


def _setup_person(world: World):
    from apps.federation.models import FederatedMember

    return FederatedMember.objects.create(user=world.member)


def _person_url(world: World) -> str:
    return f"/federation/p/{world.subject.handle}"


def _webfinger(world: World) -> str:
    from urllib.parse import urlsplit

    from django.conf import settings

    return f"/.well-known/webfinger?resource=acct:{world.community.slug}@{urlsplit(settings.SITE_URL).netloc}"


N = "/neighbours"
ENTRIES += [
    Entry("federation:community", _p(N + "/c/{slug}/"), _follow_requests, 9, persona="organizer",
          setup=_setup_federated),
    Entry("federation:off", _p(N + "/c/{slug}/off/"), rows.none, 6, persona="organizer", setup=_setup_federated,
          is_list=False),
    Entry("federation:follow-end", _p(N + "/c/{slug}/follows/{pk}/end/"), rows.none, 6, persona="organizer",
          setup=_setup_follow_out, is_list=False),
    Entry("federation:me", _u(N + "/me/"), rows.none, 6, is_list=False),
    Entry("federation:listings", _u(N + "/listings/"), _remote_listings, 6, setup=_setup_federated),
    Entry("federation:exchanges", _u(N + "/exchanges/"), _remote_exchanges, 5, setup=_setup_federated),
    Entry("federation:listing", _p(N + "/listings/{pk}/"), rows.none, 5, setup=_setup_remote_listing,
          is_list=False),
    Entry("federation:exchange-cancel", _p(N + "/exchanges/{pk}/cancel/"), rows.none, 4,
          setup=_setup_remote_exchange, is_list=False),
    Entry("federation-listing-list", _u("/api/v1/federation/listings/"), _remote_listings, 5,
          setup=_setup_federated),
    Entry("federation-listing-detail", _p("/api/v1/federation/listings/{pk}/"), rows.none, 4,
          setup=_setup_remote_listing, is_list=False),
    Entry("federation-exchange-list", _u("/api/v1/federation/exchanges/"), _remote_exchanges, 4,
          setup=_setup_federated),
    Entry("federation-exchange-detail", _p("/api/v1/federation/exchanges/{pk}/"), rows.none, 3,
          setup=_setup_remote_exchange, is_list=False),
    # The protocol, for other servers (a member's session plays no part in the answer).
    Entry("activitypub:webfinger", _webfinger, rows.none, 2, setup=_setup_federated, is_list=False),
    Entry("activitypub:nodeinfo-index", _u("/.well-known/nodeinfo"), rows.none, 1, is_list=False),
    Entry("activitypub:nodeinfo", _u("/nodeinfo/2.1"), rows.none, 3, is_list=False),
    Entry("activitypub:outbox", _p("/federation/c/{slug}/outbox"), rows.none, 3, setup=_setup_federated,
          is_list=False),
    Entry("activitypub:followers", _p("/federation/c/{slug}/followers"), _followers, 3, setup=_setup_federated),
    Entry("activitypub:following", _p("/federation/c/{slug}/following"), rows.none, 3, setup=_setup_federated,
          is_list=False),
    Entry("activitypub:person", _person_url, rows.none, 2, setup=_setup_person, is_list=False),
    Entry("privacy:move", _u("/me/data/move/"), rows.none, 6, is_list=False),
]  # fmt: skip
NOT_PAGES.update(
    {
        "activitypub:actor": "answers JSON only to an ActivityPub Accept header (budget in test_protocol.py)",
        "activitypub:listing": "a signed read of one listing by an accepted neighbour (test_protocol.py)",
        "activitypub:clearing": "a signed read of a neighbour's statement (tests/federation/test_protocol.py)",
        "activitypub:inbox": "a signed POST inbox (machine protocol), nothing to show by GET",
        "activitypub:shared-inbox": "a signed POST inbox (machine protocol), nothing to show by GET",
        "me-import": "answers POST only (an upload of a data download)",
        **dict.fromkeys(
            (
                "federation:on",
                "federation:follow",
                "federation:follow-accept",
                "federation:follow-reject",
                "federation:limit",
                "federation:listing-borrow",
                "federation:exchange-pickup",
            ),
            "answers POST only (a button or form sends it); the page it comes from is budgeted",
        ),
    }
)
