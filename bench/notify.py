"""Benchmark section "notify": a co-design challenge with 2,000 followers changes phase.

    BENCH_ONLY=notify make bench          (or: python -m bench.notify with the bench settings)

A community of its own (2,000 members who all follow one challenge, and an organizer)
is added to the database in DATABASE_URL. Then, as in production:

1. **The phase change**: ``codesign.services.challenge_step`` by the organizer (lock the
   challenge, the transition and its event, then one in-app notification per follower,
   in one insert, and one delivery task queued to the broker after commit). Baseline:
   bulk-inserting the same 2,000 notification rows in a transaction rolled back.
2. **The fan-out**: the queued task's work, ``notifications.services.deliver`` over those
   2,000 ids, in process as the worker runs it (claim each, the recipient's preference,
   the per-sender email allowance, render and send the email; email goes to Django's
   dummy backend). Baseline: rendering and sending the same emails (200 of them) with no
   database work at all.

Both are timed with their queries counted (per phase change and per follower).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter

from bench.report import load_note

FOLLOWERS = 2000
PHASE_CHANGES = ("open_proposals", "open_voting")  # ideas -> proposals -> voting
EMAIL_SAMPLE = 200  # the email baseline renders this many of the same emails (per follower)
TIME_LIMIT_S = 90
CHUNK = 250  # delivered per call, as the outbox sweep would (the task gets them all at once)


def _setup_django() -> None:
    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)
    from p2pcommons.celery import app as celery_app

    # Delivery is the worker's job: the phase change queues the task (to the bench's
    # Redis), and this process then runs that task's work itself, as the worker would.
    celery_app.conf.task_always_eager = False


def _community_with_followers(stamp: int):
    """A community of FOLLOWERS members and an organizer, and a challenge they all follow."""
    from apps.codesign.factories import ChallengeFactory
    from apps.codesign.models import Follow
    from apps.peers.factories import CommunityFactory
    from apps.peers.models import Membership, Profile, User

    community = CommunityFactory(slug=f"bench-notify-{stamp}", name=f"Notify bench {stamp}")
    users = User.objects.bulk_create(
        (User(email=f"notify{stamp}-{i}@bench.invalid", is_active=True) for i in range(FOLLOWERS)), batch_size=2000
    )
    Profile.objects.bulk_create(Profile(user=u, display_name=f"Neighbor {i}") for i, u in enumerate(users))
    Membership.objects.bulk_create(Membership(user=u, community=community) for u in users)
    challenge = ChallengeFactory(community=community, title=f"Benches for the square {stamp}")
    Follow.objects.bulk_create(Follow(challenge=challenge, member=u) for u in users)
    return challenge, users


def _bare_insert(challenge, users) -> float:
    """Bulk-insert one notification per follower (the rows the phase change writes),
    rolled back: the least any in-app fan-out costs."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.utils import timezone

    from apps.notifications.models import Notification

    target_type = ContentType.objects.get_for_model(challenge)
    began = time.perf_counter()
    with transaction.atomic():
        now = timezone.now()
        Notification.objects.bulk_create(
            Notification(
                recipient=u,
                kind="codesign.phase",
                text=f"{challenge.title}: ideas are closed.",
                url=challenge.get_absolute_url(),
                actor=challenge.created_by,
                target_type=target_type,
                target_id=challenge.pk,
                created_at=now,
            )
            for u in users
        )
        transaction.set_rollback(True)
    return time.perf_counter() - began


class Statements:
    """Counts the statements sent to the database by kind ("UPDATE notifications_notification",
    "SELECT codesign_follow" ...) through an execute wrapper: no query log, so no 9,000-query
    cap."""

    def __init__(self) -> None:
        self.kinds: Counter = Counter()

    def __call__(self, execute, sql, params, many, context):
        words = sql.replace('"', "").split()
        verb = words[0].upper() if words else "?"
        upper = [w.upper() for w in words]
        keyword = {"INSERT": "INTO", "UPDATE": "UPDATE"}.get(verb, "FROM")
        at = upper.index(keyword) + 1 if keyword in upper else len(words)
        table = words[at] if at < len(words) else ""
        self.kinds[f"{verb} {table}".strip()] += 1
        return execute(sql, params, many, context)

    @property
    def total(self) -> int:
        return sum(self.kinds.values())


def _counted(call) -> tuple[float, Statements, object]:
    """Run ``call()`` with its statements counted; seconds, counter, what it returned."""
    from django.db import connection

    counter = Statements()
    with connection.execute_wrapper(counter):
        began = time.perf_counter()
        result = call()
        took = time.perf_counter() - began
    return took, counter, result


def _phase_change(challenge, step: str) -> tuple[float, Statements, list[int]]:
    """The real service call; returns seconds, statements and the new notifications' ids."""
    from apps.codesign.services.challenges import challenge_step
    from apps.notifications.models import Notification

    last = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    took, counter, _ = _counted(lambda: challenge_step(challenge=challenge, actor=challenge.created_by, step=step))
    ids = list(
        Notification.objects.filter(pk__gt=last, target_id=challenge.pk, kind="codesign.phase").values_list(
            "pk", flat=True
        )
    )
    return took, counter, ids


def _deliver(ids: list[int], deadline: float) -> tuple[float, Statements, int, int]:
    """The delivery task's work over the ids, in process, in chunks of CHUNK until all are
    delivered or the deadline passes (a loaded machine; the rest waits for the outbox);
    seconds, statements, emails sent, notifications delivered."""
    from apps.notifications import services

    def run() -> tuple[int, int]:
        sent = done = 0
        for first in range(0, len(ids), CHUNK):
            if done and time.perf_counter() > deadline:
                break
            sent += services.deliver(notification_ids=ids[first : first + CHUNK])
            done += len(ids[first : first + CHUNK])
        return sent, done

    took, counter, (sent, done) = _counted(run)
    return took, counter, sent, done


def _bare_emails(ids: list[int]) -> float:
    """Render and send the same emails (dummy backend) with the rows already in memory:
    the part of delivery that is not database work."""
    from apps.notifications import services
    from apps.notifications.kinds import get_kind
    from apps.notifications.models import Notification

    rows = list(Notification.objects.filter(pk__in=ids).select_related("recipient__profile"))
    began = time.perf_counter()
    for n in rows:
        services._send(
            user=n.recipient,
            subject=get_kind(n.kind).email_subject,
            template="notification",
            context={"notification": n, "url": services._absolute(n.url)},
            kind=n.kind,
        )
    return time.perf_counter() - began


def main() -> int:
    started = time.perf_counter()
    _setup_django()
    from django.conf import settings

    from bench.report import Row, write_section

    stamp = int(time.time())
    challenge, users = _community_with_followers(stamp)
    setup_s = time.perf_counter() - started
    print(f"setup: {FOLLOWERS} followers of one challenge in {setup_s:.1f} s", flush=True)

    bare = [_bare_insert(challenge, users) for _ in range(3)]
    changes, deliveries = [], []
    for step in PHASE_CHANGES:
        if changes and time.perf_counter() - started > TIME_LIMIT_S * 0.6:
            break  # a loaded machine: one phase change is the figure, the second only confirms it
        took, counter, ids = _phase_change(challenge, step)
        assert len(ids) == FOLLOWERS, f"{len(ids)} notifications for {FOLLOWERS} followers"
        changes.append((took, counter.total))
        print(f"{step}: {took * 1000:.0f} ms, {counter.total} queries", flush=True)
        if not deliveries:  # one delivery run; the second change's rows stay queued
            took, counter, sent, done = _deliver(ids, deadline=started + TIME_LIMIT_S - 30)
            deliveries.append((took, counter, sent, ids, done))
            print(f"  delivery: {done} in {took:.2f} s, {counter.total} queries, {sent} sent: {dict(counter.kinds)}")
            bare_mail = _bare_emails(ids[:EMAIL_SAMPLE]) * FOLLOWERS / min(EMAIL_SAMPLE, len(ids))

    bare_s = statistics.median(bare)
    change_s = statistics.median(t for t, _ in changes)
    deliver_s = deliveries[-1][0]
    delivered = deliveries[-1][4]
    per_follower = {k: round(v / delivered, 2) for k, v in deliveries[-1][1].kinds.most_common()}
    deliver_q = deliveries[-1][1].total / delivered
    rows = [
        Row(
            f"Phase change with {FOLLOWERS:,} followers (challenge_step: transition + in-app fan-out)",
            change_s * 1000,
            "ms",
            baseline=bare_s * 1000,
            baseline_name=f"bulk insert of {FOLLOWERS:,} notification rows",
            note=f"{max(q for _, q in changes)} queries whatever the number of followers; "
            f"{change_s / FOLLOWERS * 1e6:.0f} us per follower",
            extra={"runs_ms": [round(t * 1000, 1) for t, _ in changes], "queries": [q for _, q in changes]},
        ),
        Row(
            f"Delivery task for {FOLLOWERS:,} notifications (claim, preference, allowance, email), per follower",
            deliver_s / delivered * 1000,
            "ms",
            baseline=bare_mail / FOLLOWERS * 1000,
            baseline_name="render + send the same email, no database",
            note=f"{deliver_s:.1f} s for {delivered:,}"
            + ("" if delivered == FOLLOWERS else f" (of {FOLLOWERS:,}: the section's time ran out)")
            + f"; {deliver_q:.1f} queries per follower",
            extra={
                "runs_s": [round(d[0], 3) for d in deliveries],
                "queries": [d[1].total for d in deliveries],
                "queries_per_follower_by_statement": per_follower,
                "emails_sent": [d[2] for d in deliveries],
                "email_backend": settings.EMAIL_BACKEND,
            },
        ),
        Row(
            "Phase change + delivery, per follower",
            change_s / FOLLOWERS * 1000 + deliver_s / delivered * 1000,
            "ms",
            baseline=bare_s / FOLLOWERS * 1000,
            baseline_name="bulk insert, per row",
        ),
    ]
    notes = [
        f"A community of its own: {FOLLOWERS:,} members following one challenge, set up in {setup_s:.1f} s; "
        f"phase changes {', '.join(PHASE_CHANGES[: len(changes)])} by an organizer; the delivery task run in "
        "process on the ids the first change queued (emails to the dummy backend, every follower on the default "
        "'immediate').",
        f"Baselines: median of 3 bulk inserts (rolled back); {EMAIL_SAMPLE} of the same emails rendered and sent "
        "with the rows already in memory (per follower).",
    ]
    notes.append(load_note())
    path = write_section(
        "notify",
        "Notifications: a phase change to 2,000 followers",
        rows,
        notes=notes,
        elapsed_s=time.perf_counter() - started,
    )
    print(f"section: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
