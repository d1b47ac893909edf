"""Seed a demo neighborhood from the same factories the tests use.

Idempotent: every row is looked up by a natural key before it is created, so running
it again tops up what is missing and changes nothing else.
"""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import factory.random
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from apps.peers import demo_people
from apps.peers.factories import CommunityFactory, MembershipFactory, UserFactory
from apps.peers.models import Community, Membership, User

DEMO_PASSWORD = "demo-neighbor"  # noqa: S105 - printed for the demo logins on purpose
NEIGHBORS = 30


DEMO_AGE = timedelta(days=180)
ORGANIZER = demo_people.person(
    "Olivia Brandt",
    "I organize the Saturday bike repair mornings and look after this site for Sunnyside Commons. "
    "Not sure how something works? Send me a message.",
    "Weesperzijde",
    102,
)
RIVER_ORGANIZER = demo_people.person(
    "Ravi Menon",
    "I live on a houseboat by the Westerdok and look after Riverside Neighbors. Ask me anything about the site.",
    "Westelijke Eilanden",
    103,
)


class Command(BaseCommand):
    help = "Create (or top up) the demo neighborhood: two communities and about 30 neighbors."

    def add_arguments(self, parser):
        parser.add_argument("--neighbors", type=int, default=NEIGHBORS, help="How many neighbors (default 30).")

    def handle(self, *args, neighbors: int, **options) -> None:
        factory.random.reseed_random("p2pcommons-demo")
        # Hashed once per run and given to every new demo user: hashing it anew for each of
        # the ~33 users (a deliberately slow PBKDF2) took close to half of the seed's time.
        self.password_hash = make_password(DEMO_PASSWORD)
        step = self.stdout.write
        with transaction.atomic():
            step("Communities ...")
            sunnyside = CommunityFactory(
                slug="sunnyside",
                name="Sunnyside Commons",
                description=(
                    "Forty streets between the park and the canal. We lend each other ladders and drills "
                    "and fix bikes together on Saturdays, and the panels on our roofs sell their sunny "
                    "afternoons to the neighbors. Next up: redesigning the courtyard together."
                ),
                center_latitude="52.36000",
                center_longitude="4.90000",
                radius_km="1.50",
            )
            riverside = CommunityFactory(
                slug="riverside",
                name="Riverside Neighbors",
                description="The houseboats and the old warehouses along the river.",
                center_latitude="52.37500",
                center_longitude="4.88000",
                radius_km="1.00",
                # Riverside has not taken up co-design projects yet: its organizer can
                # start them from the blueprint's page (the demo of "Use this blueprint").
                exchanges=["tools", "skills", "solar"],
            )

            step("Accounts ...")
            admin = self._user(
                "admin@example.org",
                demo_people.person("Site Admin", "Looks after the site for both neighborhoods.", "Plantage", 101),
                is_staff=True,
                is_superuser=True,
            )
            organizer = self._user("organizer@example.org", ORGANIZER, is_staff=True)
            MembershipFactory(user=organizer, community=sunnyside, role=Membership.Role.ORGANIZER)
            river_organizer = self._user("river@example.org", RIVER_ORGANIZER, is_staff=True)
            MembershipFactory(user=river_organizer, community=riverside, role=Membership.Role.ORGANIZER)

            step(f"Neighbors (0/{neighbors})", ending="")
            for i in range(1, neighbors + 1):
                in_both = i % 5 == 0
                user = self._user(f"neighbor{i:02d}@example.org", demo_people.neighbor(i, in_both=in_both))
                MembershipFactory(user=user, community=sunnyside)
                if in_both:
                    MembershipFactory(user=user, community=riverside)
                if i % 5 == 0 or i == neighbors:
                    step(f"\rNeighbors ({i}/{neighbors})", ending="")
                    self.stdout.flush()
            step("")
            # The demo neighborhood has been going for half a year: its people are not
            # brand-new accounts, whose reviews and reports the trust rules weigh little.
            since = timezone.now() - DEMO_AGE
            User.objects.filter(email__endswith="@example.org", date_joined__gt=since).update(date_joined=since)
            Membership.objects.filter(community__in=[sunnyside, riverside], joined_at__gt=since).update(joined_at=since)

            # Every other app adds its part from its own ``demo.seed(...)``: the peer core
            # never imports the apps that build on it.
            for config in django_apps.get_app_configs():
                if config.name == "apps.peers" or not config.name.startswith("apps."):
                    continue
                try:
                    demo = import_module(f"{config.name}.demo")
                except ModuleNotFoundError:
                    continue
                step(f"{config.verbose_name} ...")
                demo.seed(communities=[sunnyside, riverside], rng=factory.random.randgen, log=step)

        counts = {c.name: c.memberships.count() for c in Community.objects.filter(pk__in=[sunnyside.pk, riverside.pk])}
        step(
            self.style.SUCCESS("Demo neighborhood ready: " + ", ".join(f"{n} ({c} members)" for n, c in counts.items()))
        )
        step(f"Log in at {settings.SITE_URL}/accounts/login/ with (password for all: {DEMO_PASSWORD}):")
        step(f"  {admin.email:<28} site admin (everything in /admin/)")
        step(f"  {organizer.email:<28} organizer of Sunnyside Commons (scoped /admin/)")
        step(f"  {river_organizer.email:<28} organizer of Riverside Neighbors")
        step(f"  {'neighbor01@example.org':<28} ... neighbor{neighbors:02d}@example.org: neighbors")

    def _user(self, email: str, profile: dict[str, object], **flags) -> User:
        """Get or create a demo user with the demo password and the given profile (every
        field given, so none comes from Faker); never resets an existing one."""
        existing = User.objects.filter(email=email).first()
        if existing is not None:
            return existing
        fields = {f"profile__{name}": value for name, value in profile.items()}
        # password=None: the factory marks it unusable (no hashing); the shared hash follows.
        user = UserFactory(email=email, password=None, **fields, **flags)
        user.password = self.password_hash
        User.objects.filter(pk=user.pk).update(password=user.password)
        return user
