"""The demo looks like a real neighborhood (issue 11, item 19): people with plausible
names, bios and homes in one city's neighborhoods, times on the quarter hour, skill
sessions named after what they are about, and tool photos that show a tool.

The demo (10 neighbors) is seeded once for the module, twice over, inside a transaction
rolled back at the end (as in ``test_demo_exchanges.py``).
"""

from __future__ import annotations

import io
import re
from datetime import datetime, time
from itertools import combinations

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from PIL import Image

from apps.ledger.models import Transfer
from apps.peers import demo_people
from apps.peers.geo import distance_km
from apps.peers.models import Membership, Profile, User
from apps.reputation.models import Review
from apps.skills.demo import GROUP_TITLES
from apps.skills.models import AvailabilityWindow, Offer, Request, Seat, Session
from apps.tools.models import Reservation, Tool, ToolPhoto, WaitlistEntry

pytestmark = pytest.mark.django_db

TITLES = re.compile(r"\b(DDS|DVM|MD|PhD|Jr|Sr|Mr|Mrs|Ms|Dr|Prof|II|III|IV)\b\.?", re.IGNORECASE)
QUARTERS = {0, 15, 30, 45}
MODELS = [User, Profile, Membership, Tool, ToolPhoto, Reservation, WaitlistEntry, Offer, Request, Session, Seat]


def _counts() -> dict[str, int]:
    counts = {model.__name__: model.objects.count() for model in MODELS}
    counts["Transfer"] = Transfer.objects.count()
    counts["Review"] = Review.objects.count()
    return counts


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed the demo twice; yield the row counts after the first run and after the second."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", neighbors=10, stdout=io.StringIO())
        first = _counts()
        call_command("seed_demo", neighbors=10, stdout=io.StringIO())
        yield first, _counts()
        transaction.set_rollback(True)


def _demo_profiles() -> list[Profile]:
    return list(Profile.objects.filter(user__email__endswith="@example.org").select_related("user"))


def _is_quarter_hour(moment: datetime | time) -> bool:
    local = timezone.localtime(moment) if isinstance(moment, datetime) else moment
    return local.minute in QUARTERS and local.second == 0 and local.microsecond == 0


def test_demo_names_are_a_first_and_last_name_without_titles_or_suffixes(seeded):
    profiles = _demo_profiles()
    assert len(profiles) == 13  # 10 neighbors, two organizers, the admin
    for profile in profiles:
        if profile.user.is_superuser:
            continue
        assert not TITLES.search(profile.display_name), profile.display_name
        assert len(profile.display_name.split()) >= 2, profile.display_name
    names = [p.display_name for p in profiles]
    assert len(set(names)) == len(names)


def test_demo_bios_are_written_sentences_and_differ_between_neighbors(seeded):
    sentences = {s for s in (*demo_people.WHO, *demo_people.DOES, *demo_people.NOTES) if s}
    bios = [p.bio for p in _demo_profiles() if p.user.email.startswith("neighbor")]
    assert len(set(bios)) == len(bios) == 10
    for bio in bios:
        rest = bio
        for sentence in sorted(sentences, key=len, reverse=True):
            rest = rest.replace(sentence, "")
        assert not rest.strip(), f"not one of the written sentences: {rest.strip()!r}"


def test_every_home_and_tool_pickup_area_is_a_neighborhood_of_the_city_near_its_location(seeded):
    for profile in _demo_profiles():
        assert profile.neighborhood in demo_people.NEIGHBORHOODS, profile.neighborhood
        area = demo_people.AREAS[profile.neighborhood]
        where = (float(profile.approx_latitude), float(profile.approx_longitude))
        assert distance_km(*where, float(area.latitude), float(area.longitude)) < 1.0
        assert any(profile.exact_address.startswith(street) for street in area.streets), profile.exact_address
    pickup_areas = set(Tool.objects.values_list("owner__profile__neighborhood", flat=True))
    assert pickup_areas and pickup_areas <= demo_people.NEIGHBORHOODS


def test_sessions_helpers_free_times_and_loans_start_on_the_quarter_hour_in_local_time(seeded):
    sessions = list(Session.objects.values_list("starts_at", flat=True))
    windows = [t for w in AvailabilityWindow.objects.all() for t in (w.start, w.end)]
    loans = [t for r in Reservation.objects.all() for t in (r.starts_at, r.ends_at)]
    waiting = list(WaitlistEntry.objects.values_list("starts_at", flat=True))
    assert sessions and windows and loans and waiting
    for moment in (*sessions, *windows, *loans, *waiting):
        assert _is_quarter_hour(moment), moment


def test_a_session_is_named_after_what_its_helper_offers(seeded):
    group = Session.objects.filter(capacity__gt=1).select_related("offer")
    assert group.exists()
    for session in group:
        assert session.title == GROUP_TITLES[session.offer.title]
    for session in Session.objects.select_related("offer", "request"):
        offered = set(session.offer.skills.values_list("category__slug", flat=True))
        if "repair" in session.title.lower():
            assert "repair" in offered, f"{session.title!r} is not about a repair"
        if session.request is not None:
            requested = set(session.request.skills.values_list("category__slug", flat=True))
            assert offered & requested, f"{session.title!r}: the offer and the request share no kind of skill"


def _picture(photo: ToolPhoto) -> Image.Image:
    with photo.image.open("rb") as f:
        return Image.open(io.BytesIO(f.read())).convert("RGB").resize((200, 150))


def _drawn_part(image: Image.Image) -> list[bool]:
    """Which pixels are not the background (the most common colour, give or take JPEG noise)."""
    background = max(image.getcolors(200 * 150))[1]
    data = image.tobytes()
    return [sum(abs(data[i + k] - background[k]) for k in range(3)) > 60 for i in range(0, len(data), 3)]


def test_each_tools_first_photo_is_a_drawing_on_a_soft_background_that_differs_by_kind(seeded):
    firsts = {}
    for tool in Tool.objects.select_related("category").order_by("category__slug", "pk"):
        firsts.setdefault(tool.category.slug, tool.photos.order_by("position", "pk").first())
    assert len(firsts) >= 5
    shapes = {}
    for slug, photo in firsts.items():
        image = _picture(photo)
        _, background = max(image.getcolors(200 * 150))
        assert sum(background) / 3 > 200, f"{slug}: the background is not soft but {background}"
        drawn = _drawn_part(image)
        share = sum(drawn) / len(drawn)
        assert 0.03 < share < 0.6, f"{slug}: the drawing covers {share:.0%} of the picture"
        colors = image.quantize(16).getcolors()
        assert sum(1 for n, _ in colors if n > len(drawn) / 100) >= 4, f"{slug}: a box of one colour"
        shapes[slug] = drawn
    for one, other in combinations(sorted(shapes), 2):
        differing = sum(a != b for a, b in zip(shapes[one], shapes[other], strict=True))
        assert differing / len(shapes[one]) > 0.01, f"{one} and {other} show the same drawing"


def test_seeding_the_demo_again_changes_no_row_counts(seeded):
    first, second = seeded
    assert second == first
