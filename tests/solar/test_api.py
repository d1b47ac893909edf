"""The solar API's meters, device tokens and readings (/api/v1/solar/meters/ and
/api/v1/solar/readings/): what a member and a meter's device may do, and what the
database holds after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.solar import services
from apps.solar.factories import MeterFactory, next_slot_start
from apps.solar.models import DeviceToken, Meter, MeterReading, P1Boundary, ReadingCorrection, Slot
from apps.solar.services import Row
from tests.querycount import assert_queries_do_not_grow
from tests.solar.p1_telegrams import TELEGRAM_V5, telegram

pytestmark = pytest.mark.django_db
METERS = "/api/v1/solar/meters/"
READINGS = "/api/v1/solar/readings/"
P1 = "/api/v1/solar/readings/p1/"
EQUIPMENT = "4B384547303034303436333935353037"  # the published telegram's meter


# --- helpers ---------------------------------------------------------------------------
def quarter_ago(quarters: int = 2) -> datetime:
    """The start of a quarter hour that is over: ``quarters`` quarter hours back."""
    now = timezone.now().astimezone(UTC).replace(second=0, microsecond=0)
    return now.replace(minute=now.minute - now.minute % 15) - timedelta(minutes=15 * quarters)


def row(start: datetime, imported: int = 0, exported: int = 0) -> dict:
    return {"interval_start": start.isoformat(), "imported_wh": imported, "exported_wh": exported}


def device(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {key}")
    return client


def token_for(meter: Meter) -> str:
    _, key = services.device_token_create(meter=meter, actor=meter.owner, label="Pi in the cupboard")
    return key


SLOT_OVER = timedelta(minutes=20)


def settled_slot_with(meter: Meter, *, imported: int = 0, exported: int = 100) -> Slot:
    """A slot of yesterday in which ``meter`` traded with a neighbor, with its reading, settled."""
    then = timezone.now() - timedelta(days=1)
    start = next_slot_start(then)
    side = "sell" if meter.sells else "buy"
    services.order_place(
        member=meter.owner, meter=meter, slot_start=start, side=side, quantity_wh=100, limit_price="0.2", now=then
    )
    neighbor = MeterFactory(community=meter.community, kind=Meter.Kind.BOTH)
    services.order_place(
        member=neighbor.owner,
        meter=neighbor,
        slot_start=start,
        side="buy" if side == "sell" else "sell",
        quantity_wh=100,
        limit_price="0.2",
        now=then,
    )
    slot = Slot.objects.get(community=meter.community, start=start)
    services.slot_clear(slot_id=slot.pk, now=start - timedelta(minutes=4))
    services.readings_record(
        meter=meter, rows=[Row(start, imported, exported)], source="form", actor=meter.owner, now=start + SLOT_OVER
    )
    assert services.slot_settle(slot_id=slot.pk, now=start + timedelta(hours=3)) is True
    return slot


# --- meters ----------------------------------------------------------------------------
def test_a_member_registers_a_meter_and_only_its_rounded_place_is_kept(api_as, producer, community):
    response = api_as(producer).post(
        METERS,
        {
            "community": community.pk,
            "name": "Roof panels",
            "kind": "producer",
            "peak_capacity_w": 4200,
            "latitude": "52.370216",
            "longitude": "4.895168",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    meter = Meter.objects.get(owner=producer)
    assert (meter.name, meter.kind, meter.peak_capacity_w, meter.status) == ("Roof panels", "producer", 4200, "active")
    assert meter.approx_latitude != Decimal("52.370216")  # rounded, about 500 m
    body = response.json()
    assert body["approx_latitude"] == str(meter.approx_latitude)
    assert "latitude" not in body and "longitude" not in body
    assert body["slot_capacity_wh"] == 1050
    assert body["actions"] == ["retire"]


def test_a_meter_in_a_community_i_am_not_in_is_refused(api_as, stranger, community):
    response = api_as(stranger).post(
        METERS, {"community": community.pk, "name": "Roof", "kind": "producer", "peak_capacity_w": 4000}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "not_member"
    assert not Meter.objects.exists()


def test_a_meter_without_a_name_is_refused_in_plain_words(api_as, producer, community):
    response = api_as(producer).post(
        METERS, {"community": community.pk, "name": " ", "kind": "producer", "peak_capacity_w": 4000}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"name": ["Give the meter a name, e.g. 'Roof panels'."]}


def test_members_see_only_their_own_meters(api_as, producer, buyer, panels, home):
    mine = api_as(producer).get(METERS).json()

    assert [m["name"] for m in mine["results"]] == ["Roof panels"]
    assert api_as(producer).get(f"{METERS}{home.pk}/").status_code == 404
    assert api_as(buyer).get(f"{METERS}{home.pk}/").json()["name"] == "Flat 2"


def test_the_owner_retires_a_meter_and_its_tokens_stop(api_as, producer, panels):
    key = token_for(panels)

    response = api_as(producer).post(f"{METERS}{panels.pk}/retire/")

    assert response.status_code == 200
    assert response.json()["status"] == "retired" and response.json()["actions"] == []
    panels.refresh_from_db()
    assert panels.status == Meter.Status.RETIRED
    assert DeviceToken.objects.get(meter=panels).revoked_at is not None
    refused = device(key).post(READINGS, {"readings": [row(quarter_ago())]}, format="json")
    assert refused.status_code == 401
    assert not MeterReading.objects.exists()


def test_another_members_meter_cannot_be_retired(api_as, buyer, panels):
    assert api_as(buyer).post(f"{METERS}{panels.pk}/retire/").status_code == 404
    panels.refresh_from_db()
    assert panels.status == Meter.Status.ACTIVE


# --- device tokens ---------------------------------------------------------------------
def test_a_device_token_is_shown_once_and_listed_without_it(api_as, producer, panels):
    made = api_as(producer).post(f"{METERS}{panels.pk}/tokens/", {"label": "Pi in the hall"}, format="json")

    assert made.status_code == 201, made.json()
    key = made.json()["key"]
    assert key.startswith("p1m_") and made["Cache-Control"] == "no-store"
    token = DeviceToken.objects.get(meter=panels)
    assert token.label == "Pi in the hall" and key not in token.key_hash
    listed = api_as(producer).get(f"{METERS}{panels.pk}/tokens/").json()
    assert [(t["label"], t["prefix"]) for t in listed["results"]] == [("Pi in the hall", key[:8])]
    assert key not in str(listed) and "key" not in listed["results"][0]


def test_only_the_owner_sees_or_makes_a_meters_tokens(api_as, buyer, panels):
    assert api_as(buyer).get(f"{METERS}{panels.pk}/tokens/").status_code == 404
    assert api_as(buyer).post(f"{METERS}{panels.pk}/tokens/", {"label": "Mine now"}, format="json").status_code == 404
    assert not DeviceToken.objects.exists()


def test_the_owner_revokes_a_token_and_it_stops_at_once(api_as, producer, panels):
    key = token_for(panels)
    token = DeviceToken.objects.get(meter=panels)

    response = api_as(producer).post(f"{METERS}{panels.pk}/tokens/{token.pk}/revoke/")

    assert response.status_code == 200 and response.json()["revoked_at"] is not None
    token.refresh_from_db()
    assert token.revoked_at is not None
    refused = device(key).post(READINGS, {"readings": [row(quarter_ago())]}, format="json")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == "Device"
    assert "revoked" in refused.json()["detail"]
    assert not MeterReading.objects.exists()


def test_a_token_of_another_meter_is_not_found_under_mine(api_as, producer, panels, home):
    token_for(home)
    other = DeviceToken.objects.get(meter=home)

    response = api_as(producer).post(f"{METERS}{panels.pk}/tokens/{other.pk}/revoke/")

    assert response.status_code == 404
    other.refresh_from_db()
    assert other.revoked_at is None


# --- a device posts readings -----------------------------------------------------------
def test_a_device_posts_its_meters_readings(panels):
    start = quarter_ago()
    key = token_for(panels)

    response = device(key).post(
        READINGS, {"readings": [row(start, 10, 600), row(start + timedelta(minutes=15), 5, 700)]}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert response.json() == {"created": 2, "corrected": 0, "unchanged": 0}
    assert list(MeterReading.objects.values_list("meter_id", "imported_wh", "exported_wh", "source")) == [
        (panels.pk, 10, 600, "device"),
        (panels.pk, 5, 700, "device"),
    ]
    assert DeviceToken.objects.get(meter=panels).last_used_at is not None


def test_a_device_cannot_post_another_meters_readings(panels, home):
    key = token_for(panels)

    response = device(key).post(READINGS, {"meter": home.pk, "readings": [row(quarter_ago(), 300)]}, format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == "This device's token posts readings for its own meter only."
    assert not MeterReading.objects.exists()


@pytest.mark.parametrize(
    "path", [READINGS, f"{READINGS}?meter=1", METERS, "/api/v1/solar/orders/", "/api/v1/solar/slots/", "/api/v1/me/"]
)
def test_a_device_token_reads_nothing(panels, path):
    MeterReading.objects.create(meter=panels, interval_start=quarter_ago(), imported_wh=1, exported_wh=2, source="form")

    response = device(token_for(panels)).get(path)

    assert response.status_code in (401, 403)
    assert set(response.json()) == {"detail"}
    assert "exported_wh" not in str(response.json())


def test_a_device_token_cannot_act_for_its_owner(panels):
    key = token_for(panels)

    orders = device(key).post(
        "/api/v1/solar/orders/",
        {"meter": panels.pk, "slot_start": next_slot_start(timezone.now()).isoformat(), "side": "sell"},
        format="json",
    )
    retire = device(key).post(f"{METERS}{panels.pk}/retire/")
    tokens = device(key).post(f"{METERS}{panels.pk}/tokens/", {"label": "another"}, format="json")

    assert [orders.status_code, retire.status_code, tokens.status_code] == [401, 401, 401]
    panels.refresh_from_db()
    assert panels.status == Meter.Status.ACTIVE and DeviceToken.objects.count() == 1


def test_a_made_up_device_token_is_refused(panels):
    response = device("p1m_made-up").post(READINGS, {"readings": [row(quarter_ago())]}, format="json")

    assert response.status_code == 401
    assert not MeterReading.objects.exists()


def test_a_device_never_corrects_a_reading(panels):
    start = quarter_ago()
    key = token_for(panels)
    device(key).post(READINGS, {"readings": [row(start, 0, 500)]}, format="json")

    response = device(key).post(READINGS, {"readings": [row(start, 0, 900)], "correct": True}, format="json")

    assert response.status_code == 400
    assert "Only the owner can correct it." in response.json()["readings"][0]
    assert MeterReading.objects.get().exported_wh == 500


def test_each_device_token_has_a_budget_of_its_own(settings, panels, home):
    rates = {"solar-device": "2/minute", "anon": "1/minute", "write": "1/minute", "user": "100/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    first, second = token_for(panels), token_for(home)
    start = quarter_ago()

    answers = [
        device(first).post(READINGS, {"readings": [row(start - timedelta(minutes=15 * n), 1)]}, format="json")
        for n in range(3)
    ]
    other = device(second).post(READINGS, {"readings": [row(start, 1)]}, format="json")

    assert [a.status_code for a in answers] == [201, 201, 429]
    assert "Too many requests" in answers[2].json()["detail"]
    assert other.status_code == 201
    assert MeterReading.objects.filter(meter=panels).count() == 2


# --- the owner posts and reads readings ------------------------------------------------
def test_the_owner_posts_readings_for_a_meter_they_name(api_as, producer, panels):
    start = quarter_ago()

    response = api_as(producer).post(READINGS, {"meter": panels.pk, "readings": [row(start, 3, 400)]}, format="json")

    assert response.status_code == 201
    reading = MeterReading.objects.get()
    assert (reading.meter_id, reading.interval_start, reading.exported_wh, reading.source) == (
        panels.pk,
        start,
        400,
        "form",
    )


def test_the_owner_must_say_which_of_their_meters(api_as, producer, panels, home):
    client = api_as(producer)

    unnamed = client.post(READINGS, {"readings": [row(quarter_ago())]}, format="json")
    others = client.post(READINGS, {"meter": home.pk, "readings": [row(quarter_ago())]}, format="json")

    assert unnamed.status_code == 400 and unnamed.json() == {"meter": ["Say which of your meters these are for."]}
    assert others.status_code == 400 and others.json() == {"meter": ["No such meter of yours."]}
    assert not MeterReading.objects.exists()


def test_a_batch_with_bad_rows_names_each_and_writes_nothing(api_as, producer, panels):
    start = quarter_ago(4)
    rows = [
        row(start, 1, 100),
        {"interval_start": "2026-06-21T12:07:00+02:00", "imported_wh": 1, "exported_wh": 1},
        row(start + timedelta(minutes=15), -5, 100),
        {"interval_start": "yesterday noon", "imported_wh": 1, "exported_wh": 1},
        row(start + timedelta(minutes=30), 1, 5000),  # the panels pass 1,000 Wh a quarter hour
        row(start, 1, 100),
        "not a reading",
    ]

    response = api_as(producer).post(READINGS, {"meter": panels.pk, "readings": rows}, format="json")

    assert response.status_code == 400
    assert response.json() == {"readings": ["Row 7: a reading has interval_start, imported_wh and exported_wh."]}
    response = api_as(producer).post(READINGS, {"meter": panels.pk, "readings": rows[:6]}, format="json")
    assert response.status_code == 400
    errors = response.json()["readings"]
    assert [e.split(" ")[1].rstrip(":") for e in errors] == ["2", "3", "4", "5", "6"]
    assert "quarter hour" in errors[0]
    assert "imported must be a whole number of Wh from 0 to 1,000,000." in errors[1]
    assert "time zone" in errors[2]
    assert "more than this meter's 4,000 W can pass" in errors[3]
    assert "the same quarter hour as row 1" in errors[4]
    assert not MeterReading.objects.exists()


def test_the_same_readings_again_change_nothing(api_as, producer, panels):
    body = {"meter": panels.pk, "readings": [row(quarter_ago(), 2, 300)]}
    api_as(producer).post(READINGS, body, format="json")

    again = api_as(producer).post(READINGS, body, format="json")

    assert again.status_code == 200
    assert again.json() == {"created": 0, "corrected": 0, "unchanged": 1}
    assert MeterReading.objects.get().corrected_at is None


def test_other_values_need_the_owners_correct_until_settlement(api_as, producer, panels):
    start = quarter_ago()
    client = api_as(producer)
    client.post(READINGS, {"meter": panels.pk, "readings": [row(start, 2, 300)]}, format="json")

    refused = client.post(READINGS, {"meter": panels.pk, "readings": [row(start, 2, 350)]}, format="json")
    corrected = client.post(
        READINGS, {"meter": panels.pk, "readings": [row(start, 2, 350)], "correct": True}, format="json"
    )

    assert refused.status_code == 400
    assert "already recorded as 2 Wh in, 300 Wh out. Tick 'correct' to replace it." in refused.json()["readings"][0]
    assert corrected.status_code == 200 and corrected.json() == {"created": 0, "corrected": 1, "unchanged": 0}
    reading = MeterReading.objects.get()
    assert reading.exported_wh == 350 and reading.corrected_at is not None
    assert list(ReadingCorrection.objects.values_list("previous_exported_wh", flat=True)) == [300]


def test_a_settled_reading_is_never_corrected(api_as, producer, panels):
    slot = settled_slot_with(panels, exported=100)

    response = api_as(producer).post(
        READINGS, {"meter": panels.pk, "readings": [row(slot.start, 0, 250)], "correct": True}, format="json"
    )

    assert response.status_code == 400
    assert "this quarter hour is settled; its reading can't change." in response.json()["readings"][0]
    assert MeterReading.objects.get(meter=panels).exported_wh == 100


def test_a_retired_meter_takes_no_readings_from_its_owner(api_as, producer, panels):
    services.meter_retire(meter=panels, actor=producer)

    response = api_as(producer).post(READINGS, {"meter": panels.pk, "readings": [row(quarter_ago())]}, format="json")

    assert response.status_code == 409 and response.json()["code"] == "illegal_transition"
    assert not MeterReading.objects.exists()


def test_members_read_only_their_own_readings(api_as, producer, buyer, panels, home):
    start = quarter_ago()
    for meter in (panels, home):
        MeterReading.objects.create(meter=meter, interval_start=start, imported_wh=1, exported_wh=0, source="form")

    mine = api_as(producer).get(READINGS).json()
    filtered = api_as(producer).get(READINGS, {"meter": home.pk}).json()
    bad = api_as(producer).get(READINGS, {"meter": "²"})

    assert [r["meter"] for r in mine["results"]] == [panels.pk]
    assert filtered["results"] == []
    assert bad.status_code == 400 and bad.json() == {"meter": ["Give a meter by its number."]}


# --- P1 telegrams ----------------------------------------------------------------------
def test_the_published_telegram_teaches_the_meter_its_smart_meter(panels):
    response = device(token_for(panels)).post(P1, {"telegrams": [TELEGRAM_V5]}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json() == {"created": 0, "corrected": 0, "unchanged": 0}  # not at a quarter-hour boundary
    panels.refresh_from_db()
    assert panels.p1_equipment_id == EQUIPMENT


def test_two_boundary_telegrams_make_one_reading(panels):
    start = quarter_ago()
    key = token_for(panels)
    first = telegram(start + timedelta(seconds=5), imported_wh=1_000, exported_wh=5_000)
    second = telegram(start + timedelta(minutes=15, seconds=3), imported_wh=1_100, exported_wh=5_400)

    device(key).post(P1, {"telegrams": [first]}, format="json")
    response = device(key).post(P1, {"telegrams": [second]}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json() == {"created": 1, "corrected": 0, "unchanged": 0}
    reading = MeterReading.objects.get()
    assert (reading.interval_start, reading.imported_wh, reading.exported_wh, reading.source) == (
        start,
        100,
        400,
        "p1",
    )
    assert P1Boundary.objects.filter(meter=panels).count() == 2


def test_a_telegram_with_a_bad_crc_is_refused_and_nothing_is_kept(panels):
    good = telegram(quarter_ago() + timedelta(seconds=2), imported_wh=1_000, exported_wh=2_000)
    damaged = good.replace("1-0:2.8.1(000002.000*kWh)", "1-0:2.8.1(000009.000*kWh)")

    response = device(token_for(panels)).post(P1, {"telegrams": [good, damaged]}, format="json")

    assert response.status_code == 400
    [message] = response.json()["telegrams"]
    assert message.startswith("Telegram 2: This telegram can't be read")
    panels.refresh_from_db()
    assert panels.p1_equipment_id == "" and not P1Boundary.objects.exists()


def test_the_owner_posts_telegrams_for_a_meter_they_name(api_as, producer, buyer, panels):
    body = {"meter": panels.pk, "telegrams": [TELEGRAM_V5]}

    assert api_as(buyer).post(P1, body, format="json").status_code == 400
    assert api_as(producer).post(P1, body, format="json").status_code == 200
    panels.refresh_from_db()
    assert panels.p1_equipment_id == EQUIPMENT


def test_a_device_cannot_post_telegrams_for_another_meter(panels, home):
    response = device(token_for(panels)).post(P1, {"meter": home.pk, "telegrams": [TELEGRAM_V5]}, format="json")

    assert response.status_code == 403
    home.refresh_from_db()
    assert home.p1_equipment_id == ""


def test_another_smart_meters_telegrams_are_refused(panels):
    panels.p1_equipment_id = "SOMEONE-ELSES"
    panels.save()

    response = device(token_for(panels)).post(P1, {"telegrams": [TELEGRAM_V5]}, format="json")

    assert response.status_code == 409 and response.json()["code"] == "wrong_meter"


# --- query budgets ---------------------------------------------------------------------
def test_the_meter_list_costs_the_same_for_many_meters(api_as, producer, community):
    client = api_as(producer)

    def add(n):
        for _ in range(n):
            MeterFactory(owner=producer, community=community)

    assert_queries_do_not_grow(lambda: client.get(METERS), add)


def test_the_token_list_costs_the_same_for_many_tokens(api_as, producer, panels):
    client = api_as(producer)

    def add(n):
        for i in range(n):
            DeviceToken.objects.create(meter=panels, label=f"Pi {i}", key_hash=f"{panels.pk}-{i}-{n}", prefix="p1m_x")

    assert_queries_do_not_grow(lambda: client.get(f"{METERS}{panels.pk}/tokens/"), add)


def test_the_reading_list_costs_the_same_for_many_readings(api_as, producer, panels):
    client = api_as(producer)
    added = []

    def add(n):
        for _ in range(n):
            added.append(quarter_ago(len(added) + 2))
            MeterReading.objects.create(
                meter=panels, interval_start=added[-1], imported_wh=1, exported_wh=1, source="form"
            )

    assert_queries_do_not_grow(lambda: client.get(READINGS), add)
