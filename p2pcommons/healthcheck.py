"""Health checks for the Celery processes, for docker-compose (exit 0 healthy, 1 not).

    python -m p2pcommons.healthcheck worker [--max-age 60]
    python -m p2pcommons.healthcheck beat [--max-age 180]

- ``worker``: this container's worker touched its heartbeat file (``WorkerLiveness`` in
  p2pcommons/celery.py) within ``--max-age`` seconds: the process runs and its event loop,
  which also consumes from the broker, is turning. It reads one file's time, unlike
  ``celery inspect ping``, which starts a Celery client and waits for a broker round-trip.
- ``beat``: a worker ran the ``p2pcommons.heartbeat`` task that beat schedules every minute
  within ``--max-age`` seconds (a key in the shared cache): beat publishes, the broker
  delivers and some worker consumes, end to end.

The checks live in p2pcommons/heartbeat.py. The worker check imports Celery (the package
loads its app) but neither starts it nor talks to the broker: a quarter of a second.
"""

from __future__ import annotations

import argparse
import sys

from p2pcommons.heartbeat import DEFAULT_MAX_AGE, check_beat, check_worker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m p2pcommons.healthcheck", description=__doc__.split("\n")[0])
    parser.add_argument("component", choices=["worker", "beat"])
    parser.add_argument("--max-age", type=float, default=None, help="seconds; see the module docstring")
    args = parser.parse_args(argv)
    max_age = args.max_age if args.max_age is not None else DEFAULT_MAX_AGE[args.component]
    healthy, message = (check_worker if args.component == "worker" else check_beat)(max_age)
    state = "ok" if healthy else "unhealthy"
    print(f"{args.component}: {state}: {message}", file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
