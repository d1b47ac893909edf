"""Who the benchmarks act as on the scale data (`manage.py seed_scale`).

The scale data has 20 communities of uneven size so that growth is measured on one
database: community 1 holds 2% of every kind of listing, community 2 18%, communities
3-20 the remaining 80% evenly. Three members see 2%, 20% and 100% of the data (1k, 10k
and 50k of the 50k tools), so a list or a search measured as each of them tells how it
grows with the rows it has to consider.
"""

from __future__ import annotations

PASSWORD = "neighbors-bench-2026"  # noqa: S105 - the scale data's shared demo password

COMMUNITIES = 20
COMMUNITY_SLUG = "scale-{:02d}"  # scale-01 .. scale-20
# Share of every kind of listing per community: 2%, 18%, then 80% spread over 18.
SHARES = [0.02, 0.18, *([0.80 / 18] * 18)]

# (label, email, communities they are an active member of, share of the data they see)
GROWTH = [
    ("1k", "bench-1k@scale.invalid", [1], 0.02),
    ("10k", "bench-10k@scale.invalid", [1, 2], 0.20),
    ("50k", "bench-50k@scale.invalid", list(range(1, COMMUNITIES + 1)), 1.00),
]
LARGE = GROWTH[-1][1]  # the persona for the HTTP benchmark: sees everything
ORGANIZER = "bench-organizer@scale.invalid"  # organizer of every scale community
# Centre of the scale neighborhood (approximate locations spread over about 20 x 20 km).
CENTRE = (52.3700, 4.8900)
