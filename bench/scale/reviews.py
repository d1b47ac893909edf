"""Reviews of returned loans and the trust rows they make (part of the scale seed, bench/scale/__init__.py)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

from .base import Ctx, reset_sequences, write

REVIEWED = 0.3  # share of returned loans whose two parties reviewed each other
COMMENTS = ("Great, thanks!", "Everything went smoothly.", "", "Friendly and on time.", "")


def seed_reviews(ctx: Ctx) -> dict[str, int]:
    """Both parties' reviews of some returned loans (revealed, the window over), and the
    trust rows the reputation app keeps for everyone reviewed: its rule, computed for all
    of them at once (``_trust_rows``)."""
    from django.contrib.contenttypes.models import ContentType

    from apps.reputation.models import REVIEW_WINDOW, Review, TrustScore
    from apps.tools.models import Reservation

    rng, now = ctx.rng, ctx.now
    content_type = ContentType.objects.get_for_model(Reservation).pk
    rows = []
    for reservation, owner, borrower, community, returned in ctx.returned:
        if rng.random() >= REVIEWED:
            continue
        written = [returned + timedelta(hours=rng.randint(1, 24 * 10)) for _ in range(2)]
        closes = returned + REVIEW_WINDOW
        revealed = min(max(written), closes)  # shown once both wrote (or the window closed)
        if revealed > now:
            continue
        for (author, subject), at in zip(((borrower, owner), (owner, borrower)), written, strict=True):
            rating = rng.choice((5, 5, 5, 4, 4, 3, 2))
            row = (content_type, reservation, community, "tools", author, subject, rating, rng.choice(COMMENTS))
            rows.append((*row, at, closes, revealed))
    write(
        Review,
        [
            "content_type_id",
            "object_id",
            "community_id",
            "domain",
            "author_id",
            "subject_id",
            "rating",
            "comment",
            "created_at",
            "window_closes_at",
            "revealed_at",
        ],
        rows,
    )
    trust = _trust_rows(ctx, [(row[2], row[4], row[5], row[6]) for row in rows])
    write(TrustScore, ["user_id", "score", "rating_count", "tools_count", "updated_at"], trust)
    reset_sequences([Review, TrustScore])
    return {"reviews": len(rows), "trust scores": len(trust)}


def _trust_rows(ctx: Ctx, reviews: list[tuple[int, int, int, int]]) -> list[tuple]:
    """``trust_recompute``'s result for every reviewed member, from ``reviews`` (community,
    author, subject, rating; all revealed, none hidden): the reviewer weights come from the
    app itself (one query for all reviewers), the prior and the score follow its rule
    (``community_prior``, ``bayesian_score``); the tests compare with ``trust_recompute``."""
    from apps.reputation.selectors import ESTABLISHED_ACCOUNT_DAYS
    from apps.reputation.services import DEFAULT_PRIOR, bayesian_score, reviewer_weights

    now = ctx.now
    weights = reviewer_weights(reviewer_ids={author for _c, author, _s, _r in reviews}, now=now)
    old_enough = now - timedelta(days=ESTABLISHED_ACCOUNT_DAYS)
    eligible = [r for r in reviews if ctx.joined[r[1]] <= old_enough]  # authors counted in a prior
    per_community: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    own: dict[int, list[tuple[int, int]]] = defaultdict(list)  # user -> (community, rating) they wrote or got
    for community, author, subject, rating in eligible:
        per_community[community][0] += rating
        per_community[community][1] += 1
        own[author].append((community, rating))
        own[subject].append((community, rating))
    by_subject: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    reviewed_in: dict[int, set[int]] = defaultdict(set)
    for community, author, subject, rating in reviews:
        by_subject[subject][author][0] += rating
        by_subject[subject][author][1] += 1
        reviewed_in[subject].add(community)
    completed = Counter()
    for _pk, owner, borrower, _community, _returned in ctx.returned:
        completed[owner] += 1
        completed[borrower] += 1
    rows = []
    for subject, authors in sorted(by_subject.items()):
        communities = ctx.communities_of[subject] | reviewed_in[subject]
        total = sum(per_community[c][0] for c in communities) - sum(r for c, r in own[subject] if c in communities)
        count = sum(per_community[c][1] for c in communities) - sum(1 for c, _r in own[subject] if c in communities)
        prior = Decimal(total) / Decimal(count) if count else DEFAULT_PRIOR
        rating_sum = sum((weights[a] * Decimal(t) / n for a, (t, n) in authors.items()), Decimal(0))
        score = bayesian_score(prior=prior, rating_sum=rating_sum, rating_count=sum(weights[a] for a in authors))
        rows.append((subject, score, len(authors), completed[subject], now))
    return rows
