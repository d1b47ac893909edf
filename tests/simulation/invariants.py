"""The invariants of docs/DESIGN.md as checks over the whole database.

Each function is named after the invariant it checks and returns the problems it finds
(an empty list when the invariant holds), in plain sentences with the rows' ids, so the
simulation can print them beside the seed and the last actions. They read every row
with plain queries of their own (never the services' code), so a bug in a service
cannot hide itself from its check.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, F, Q

from apps.codesign.models import Ballot, BallotEntry, Challenge, Task, Volunteer
from apps.ledger import checkpoint as notes
from apps.ledger import log, merkle
from apps.ledger.chain import _entries, verify_community
from apps.ledger.models import Account, Chain, Entry, LogNode, Transfer
from apps.ledger.models import Checkpoint as LogCheckpoint
from apps.peers.models import Community
from apps.skills.models import Seat, Session
from apps.solar.models import Order, Slot, SlotEvent, Trade
from apps.tools.models import Reminder, Reservation


def no_double_booking() -> list[str]:
    """Invariant 1: two live loans of one tool never overlap (buffer included)."""
    problems = []
    live = Reservation.objects.filter(status__in=Reservation.LIVE).order_by("tool_id", "starts_at", "pk")
    last: dict[int, tuple[int, object]] = {}
    for pk, tool_id, starts_at, blocked_until in live.values_list("pk", "tool_id", "starts_at", "blocked_until"):
        before = last.get(tool_id)
        if before is not None and starts_at < before[1]:
            problems.append(f"live loans {before[0]} and {pk} of tool {tool_id} overlap")
        if before is None or blocked_until > before[1]:
            last[tool_id] = (pk, blocked_until)
    return problems


def waitlist_holds_are_kept() -> list[str]:
    """Invariant 1, its waitlist side: a window offered to the next in line is held for
    them until the offer expires; nobody else holds a live loan over it meanwhile."""
    from django.utils import timezone

    from apps.tools.models import WaitlistEntry

    problems = []
    held = WaitlistEntry.objects.filter(status=WaitlistEntry.Status.OFFERED, offer_expires_at__gt=timezone.now())
    for pk, tool_id, member_id, starts_at, ends_at, buffer in held.values_list(
        "pk", "tool_id", "member_id", "starts_at", "ends_at", "tool__buffer_hours"
    ):
        clash = Reservation.objects.filter(
            tool_id=tool_id,
            status__in=Reservation.LIVE,
            starts_at__lt=ends_at + timedelta(hours=buffer),
            blocked_until__gt=starts_at,
        ).exclude(borrower_id=member_id)
        problems.extend(f"loan {loan} takes the window held for waitlist entry {pk}" for loan in clash.values_list(
            "pk", flat=True))  # fmt: skip
    return problems


def the_ledger_balances() -> list[str]:
    """Invariant 2, its sums: per community and currency the balances add up to zero,
    every account is within its limit, each balance is the sum of its entries, and every
    transfer has exactly two entries that cancel out. (Summed here, in ``Decimal``: on
    SQLite the database's SUM of a decimal column is a float.)"""
    problems = []
    totals: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    accounts = Account.objects.order_by("pk").values_list("pk", "community_id", "currency", "balance", "limit")
    entry_sums: dict[int, Decimal] = defaultdict(Decimal)
    legs: dict[int, list[Decimal]] = defaultdict(list)
    for account_id, transfer_id, amount in Entry.objects.values_list("account_id", "transfer_id", "amount"):
        entry_sums[account_id] += amount
        legs[transfer_id].append(amount)
    for pk, community_id, currency, balance, limit in accounts:
        totals[(community_id, currency)] += balance
        if balance < limit:
            problems.append(f"account {pk} holds {balance}, below its limit {limit}")
        if entry_sums[pk] != balance:
            problems.append(f"account {pk} holds {balance} but its entries sum to {entry_sums[pk]}")
    for (community_id, currency), total in sorted(totals.items()):
        if total != 0:
            problems.append(f"community {community_id} {currency} balances sum to {total}")
    for transfer_id in Transfer.objects.values_list("pk", flat=True):
        amounts = legs.get(transfer_id, [])
        if len(amounts) != 2 or sum(amounts) != 0:
            problems.append(f"transfer {transfer_id} has {len(amounts)} entries summing to {sum(amounts)}")
    return problems


def the_ledger_cannot_be_rewritten() -> list[str]:
    """Invariant 2, its chain: each community's hash chain verifies (recomputed from the
    database, uncached: ``apps.ledger.chain.verify_community``)."""
    problems = []
    for community in Community.objects.filter(ledger_chain__isnull=False).order_by("pk"):
        report = verify_community(community=community)
        if not report.ok:
            problems.append(f"the chain of community {community.pk} is broken: {report}")
    return problems


def the_merkle_log_verifies() -> list[str]:
    """Invariant 2, its published log (apps.ledger.log): per community, the stored tree's
    root at the chain's length is the root of the leaves recomputed from the entries, and so
    is every stored subtree (later proofs read them, not only the root); every checkpoint
    opens with the log's recorded key and signs the stored root at its size; each checkpoint
    extends the one before it (a consistency proof from the stored subtrees verifies). So a
    tampered entry, a lost or forged subtree, or a checkpoint signed over another history
    shows after the step that caused it."""
    problems = []
    chains = Chain.objects.filter(last_seq__gt=0).select_related("community").order_by("community_id")
    for chain in chains:
        community = chain.community
        leaves = [log.leaf_bytes(doc) for doc in _entries(community, upto=chain.last_seq)]
        try:
            stored = log.root(community_id=community.pk, size=chain.last_seq)
        except LookupError as error:
            problems.append(f"the log of community {community.pk} misses subtrees: {error}")
            continue
        if len(leaves) != chain.last_seq:
            problems.append(f"community {community.pk} has {len(leaves)} entries but its chain says {chain.last_seq}")
        elif stored != merkle.root(leaves):
            problems.append(f"the log root of community {community.pk} is not the root of its entries")
        # Every stored subtree, not only the right edge a root reads: a wrong one would spoil proofs.
        compact, expected = merkle.CompactRange(), {}
        for leaf in leaves:
            expected.update(((n.level, n.index), n.hash) for n in compact.append(merkle.leaf_hash(leaf)))
        rows = LogNode.objects.filter(community=community).values_list("level", "index", "hash")
        actual = {(level, index): bytes(digest) for level, index, digest in rows}
        wrong = sorted(key for key in expected.keys() | actual.keys() if expected.get(key) != actual.get(key))
        if wrong:
            problems.append(f"the log of community {community.pk} stores wrong or missing subtrees {wrong[:5]}")
        previous = None
        for cp in LogCheckpoint.objects.filter(community=community).order_by("size"):
            label = f"checkpoint {cp.number} of community {community.pk}"
            try:
                body, _ = notes.open_checkpoint(log.signed_note(cp), [chain.log_vkey], origin=chain.origin)
            except notes.NoteError as error:
                problems.append(f"{label} does not open with the log's key: {error}")
                continue
            if (body.size, body.root_hash) != (cp.size, bytes(cp.root)):
                problems.append(f"{label} signs size {body.size}, stored as {cp.size} with another root")
            if cp.size > chain.last_seq:
                problems.append(f"{label} covers {cp.size} entries, the chain has {chain.last_seq}")
                continue
            if body.root_hash != log.root(community_id=community.pk, size=cp.size):
                problems.append(f"{label} signs another root than the stored tree's at size {cp.size}")
            if previous is not None:
                try:
                    proof = log.consistency_proof(community_id=community.pk, size1=previous.size, size2=body.size)
                    merkle.verify_consistency(previous.size, body.size, previous.root_hash, body.root_hash, proof)
                except (LookupError, ValueError) as error:
                    problems.append(f"{label} does not extend the one before: {error}")
            previous = body
    return problems


def the_energy_market_clears_and_pays_once() -> list[str]:
    """Invariant 3: every slot cleared at most once and settled at most once (by its
    recorded steps), trades only in cleared slots, all at the slot's one price, no order
    filled beyond its quantity (and its fill is what its trades add up to), energy sold
    equals energy bought, nothing delivered beyond what was sold, and each trade paid at
    most once (one transfer, its key ``solar-trade-<id>``, for its amount)."""
    problems = []
    steps = Counter(SlotEvent.objects.filter(target__in=("cleared", "settled")).values_list("slot_id", "target"))
    for (slot_id, target), count in sorted(steps.items()):
        if count > 1:
            problems.append(f"slot {slot_id} was {target} {count} times")
    slots = {pk: (status, price) for pk, status, price in Slot.objects.values_list("pk", "status", "clearing_price")}
    bought: dict[int, int] = defaultdict(int)
    sold: dict[int, int] = defaultdict(int)
    fills: dict[int, int] = defaultdict(int)
    trade_rows = Trade.objects.values_list(
        "pk", "slot_id", "buy_order_id", "sell_order_id", "quantity_wh", "price", "status", "delivered_wh",
        "amount", "transfer_id",
    )  # fmt: skip
    paid = Counter(
        Transfer.objects.filter(idempotency_key__startswith="solar-trade-").values_list("idempotency_key", flat=True)
    )
    for key, count in paid.items():
        if count > 1:
            problems.append(f"{key} was paid {count} times")
    for pk, slot_id, buy, sell, quantity, price, status, delivered, amount, transfer_id in trade_rows:
        slot_status, slot_price = slots[slot_id]
        if (slot_id, "cleared") not in steps:
            problems.append(f"trade {pk} is in slot {slot_id}, which was never cleared")
        if slot_status not in ("cleared", "settled", "cancelled"):
            problems.append(f"trade {pk} is in slot {slot_id}, which is {slot_status}")
        if price != slot_price:
            problems.append(f"trade {pk} is at {price}, not its slot's price {slot_price}")
        bought[buy] += quantity
        sold[sell] += quantity
        fills[buy] += quantity
        fills[sell] += quantity
        if delivered is not None and delivered > quantity:
            problems.append(f"trade {pk} delivered {delivered} Wh of {quantity} sold")
        if status == "settled" and amount and transfer_id is None:
            problems.append(f"trade {pk} is settled for {amount} without a payment")
        if transfer_id is not None and status != "settled":
            problems.append(f"trade {pk} has a payment but is {status}")
        if status in ("settled", "unpaid") and slot_status != "settled":
            problems.append(f"trade {pk} is {status} in slot {slot_id}, which is {slot_status}")
    per_slot_buy: dict[int, int] = defaultdict(int)
    per_slot_sell: dict[int, int] = defaultdict(int)
    for pk, slot_id, side, quantity, filled, status in Order.objects.values_list(
        "pk", "slot_id", "side", "quantity_wh", "filled_wh", "status"
    ):
        if filled > quantity:
            problems.append(f"order {pk} filled {filled} Wh of {quantity}")
        if status != "void" and filled != fills.get(pk, 0):
            problems.append(f"order {pk} says {filled} Wh filled but its trades add up to {fills.get(pk, 0)}")
        if side == "buy":
            per_slot_buy[slot_id] += fills.get(pk, 0)
        else:
            per_slot_sell[slot_id] += fills.get(pk, 0)
        if status == "open" and slots[slot_id][0] != "open":
            problems.append(f"order {pk} is still open in slot {slot_id}, which is {slots[slot_id][0]}")
    for slot_id in sorted(set(per_slot_buy) | set(per_slot_sell)):
        if per_slot_buy[slot_id] != per_slot_sell[slot_id]:
            problems.append(f"slot {slot_id}: {per_slot_buy[slot_id]} Wh bought but {per_slot_sell[slot_id]} Wh sold")
    moved = net_moved(Trade)
    for pk, status, amount in Trade.objects.values_list("pk", "status", "amount"):
        expected = amount if status == "settled" and amount else Decimal(0)
        if moved.get(pk, Decimal(0)) != expected:
            problems.append(f"trade {pk} ({status}, {amount}) was paid {moved.get(pk, 0)}")
    return problems


def ballots_stay_within_their_dots() -> list[str]:
    """Co-design: every ballot within its challenge's dots, at most the per-proposal cap
    on one proposal (approval voting: at most 1), and only proposals of its challenge."""
    problems = []
    limits = {pk: (method, dots, cap) for pk, method, dots, cap in Challenge.objects.values_list(
        "pk", "method", "dots", "max_dots_per_proposal")}  # fmt: skip
    spent = defaultdict(int)
    for ballot_id, challenge_id, proposal_challenge, dots in BallotEntry.objects.values_list(
        "ballot_id", "ballot__challenge_id", "proposal__challenge_id", "dots"
    ):
        method, total, cap = limits[challenge_id]
        most = 1 if method == Challenge.Method.APPROVAL else cap
        if dots > most:
            problems.append(f"ballot {ballot_id} puts {dots} dots on one proposal (at most {most})")
        if proposal_challenge != challenge_id:
            problems.append(f"ballot {ballot_id} votes on a proposal of another challenge")
        spent[(ballot_id, challenge_id)] += dots
    for (ballot_id, challenge_id), dots in spent.items():
        method, total, _cap = limits[challenge_id]
        if method == Challenge.Method.DOTS and dots > total:
            problems.append(f"ballot {ballot_id} spends {dots} dots of {total}")
    duplicates = Ballot.objects.values("challenge_id", "voter_id").annotate(n=Count("pk")).filter(n__gt=1)
    problems.extend(f"voter {row['voter_id']} has {row['n']} ballots" for row in duplicates)
    return problems


def places_are_never_overbooked() -> list[str]:
    """Skills and co-design: no session has more booked places than its capacity, no
    task more volunteers than its places; each completed place and each confirmed
    volunteer moved its hours at most once (one transfer each, for the hours recorded)."""
    problems = []
    over = Session.objects.annotate(
        booked=Count(
            "seats", filter=Q(seats__status__in=(Seat.Status.BOOKED, Seat.Status.COMPLETED, Seat.Status.DISPUTED))
        )
    ).filter(booked__gt=F("capacity"))
    problems.extend(f"session {s.pk} has {s.booked} places of {s.capacity}" for s in over)
    crowded = Task.objects.annotate(
        taken=Count(
            "volunteers", filter=Q(volunteers__status__in=(Volunteer.Status.JOINED, Volunteer.Status.CONFIRMED))
        )
    ).filter(taken__gt=F("places"))
    problems.extend(f"task {t.pk} has {t.taken} volunteers for {t.places} places" for t in crowded)
    moved = net_moved(Seat)
    for pk, status, hours in Seat.objects.values_list("pk", "status", "hours"):
        if moved.get(pk, Decimal(0)) != (hours or Decimal(0)):
            problems.append(f"place {pk} ({status}) records {hours} h but {moved.get(pk, 0)} h moved for it")
    moved = net_moved(Volunteer)
    for pk, status, hours in Volunteer.objects.values_list("pk", "status", "task__hours"):
        expected = hours if status == Volunteer.Status.CONFIRMED else Decimal(0)
        if moved.get(pk, Decimal(0)) != expected:
            problems.append(f"volunteer {pk} ({status}) of a {hours} h task was paid {moved.get(pk, 0)} h")
    return problems


def net_moved(model) -> dict[int, Decimal]:
    """What the ledger moved for each row of ``model`` (its related transfers, less the
    reversals of those transfers), by the row's id; one query."""
    kind = ContentType.objects.get_for_model(model)
    rows = Transfer.objects.filter(Q(related_type=kind) | Q(reverses__related_type=kind)).values_list(
        "related_type_id", "related_id", "amount", "reverses__related_id"
    )
    moved: dict[int, Decimal] = defaultdict(Decimal)
    for related_type_id, related_id, amount, reversed_id in rows:
        if related_type_id == kind.pk:
            moved[related_id] += amount
        else:
            moved[reversed_id] -= amount
    return moved


def tool_fees_are_paid_once() -> list[str]:
    """Tools: a loan's fee moves once, when it is picked up, for the fee fixed at request;
    nothing moves for a loan never picked up."""
    problems = []
    moved = net_moved(Reservation)
    for pk, status, picked_up_at, fee in Reservation.objects.values_list("pk", "status", "picked_up_at", "fee_total"):
        expected = fee if picked_up_at is not None else Decimal(0)
        if moved.get(pk, Decimal(0)) != expected:
            problems.append(f"loan {pk} ({status}, fee {fee}) moved {moved.get(pk, 0)} for its fee")
    return problems


def reminders_follow_the_loan() -> list[str]:
    """Background work acts on the state it finds: no loan reminder is sent for a loan
    already returned, and none twice (invariant 6, seen from the reminders' side)."""
    problems = []
    late = Reminder.objects.filter(
        reservation__returned_at__isnull=False, sent_at__gt=F("reservation__returned_at")
    ).values_list("pk", "reservation_id", "kind")
    problems.extend(f"reminder {pk} ({kind}) for loan {loan} was sent after its return" for pk, loan, kind in late)
    twice = Reminder.objects.values("reservation_id", "kind").annotate(n=Count("pk")).filter(n__gt=1)
    problems.extend(f"loan {row['reservation_id']} got its {row['kind']} reminder {row['n']} times" for row in twice)
    return problems


def nothing_is_left_behind() -> list[str]:
    """After the wind-down (every deadline over, every sweep run, every message
    delivered): no slot past gate closure still open, none cleared past its settlement
    deadline or with traders never told, no request or approved loan past its pickup
    window, no vote past its close. Not one of ``ALL``: mid-walk, work may still wait."""
    from django.utils import timezone

    from apps.solar.models import GATE_CLOSURE
    from apps.tools.transitions import PICKUP_GRACE

    now = timezone.now()
    problems = [f"slot {pk} is still open, past its gate closure" for pk in Slot.objects.filter(
        status=Slot.Status.OPEN, start__lte=now + GATE_CLOSURE).values_list("pk", flat=True)]  # fmt: skip
    for pk, start in Slot.objects.filter(status=Slot.Status.CLEARED).values_list("pk", "start"):
        if start + timedelta(minutes=15) + timedelta(hours=2) <= now:
            problems.append(f"slot {pk} is cleared but not settled, past its deadline")
    problems.extend(
        f"slot {pk}'s traders were never told how their orders did"
        for pk in Slot.objects.filter(status__in=("cleared", "settled"), traders_told_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    stale = Reservation.objects.filter(status__in=(Reservation.Status.REQUESTED, Reservation.Status.APPROVED),
                                       starts_at__lt=now - PICKUP_GRACE).values_list("pk", flat=True)  # fmt: skip
    problems.extend(f"loan {pk} is still waiting, past its pickup window" for pk in stale)
    problems.extend(
        f"challenge {pk} is still voting, past its close"
        for pk in Challenge.objects.filter(phase=Challenge.Phase.VOTING, voting_until__lte=now).values_list(
            "pk", flat=True
        )
    )
    return problems


ALL: tuple[Callable[[], list[str]], ...] = (
    no_double_booking,
    waitlist_holds_are_kept,
    the_ledger_balances,
    the_ledger_cannot_be_rewritten,
    the_merkle_log_verifies,
    the_energy_market_clears_and_pays_once,
    ballots_stay_within_their_dots,
    places_are_never_overbooked,
    tool_fees_are_paid_once,
    reminders_follow_the_loan,
)


def check_all() -> dict[str, list[str]]:
    """Every invariant's problems, by the invariant's name (only those that failed)."""
    found = {}
    for check in ALL:
        problems = check()
        if problems:
            found[check.__name__] = problems
    return found
