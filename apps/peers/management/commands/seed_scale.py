"""`manage.py seed_scale`: the scale data the benchmarks run on (see bench/scale.py).

    manage.py seed_scale --scale 1.0 --seed 1   # ~10k members, 50k tools, 1M ledger entries

Same seed, scale and hour give the same rows. It fills an empty (migrated) database
only and refuses a database that has the scale data already.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone


class Command(BaseCommand):
    help = "Fill an empty database with the benchmarks' scale data (bench/scale.py)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0, help="1.0: 50k tools, 1M ledger entries, ...")
        parser.add_argument("--seed", type=int, default=1, help="The random seed (same seed, same rows).")

    def handle(self, *args, scale: float, seed: int, **options) -> None:
        from bench.scale import AlreadySeeded
        from bench.scale import seed as seed_scale

        if not 0 < scale <= 10:
            raise CommandError("--scale must be more than 0 and at most 10.")
        # Times are offsets from the start of this hour, so a rerun within it gives the same rows.
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        self.stderr.write(f"seed_scale --scale {scale} --seed {seed} (now = {now:%Y-%m-%d %H:%M} UTC)")
        try:
            counts = seed_scale(scale=scale, seed=seed, now=now, progress=self.stderr.write)
        except AlreadySeeded as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write("seeded: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
