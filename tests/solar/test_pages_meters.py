"""My meters: registering one, its page (production, readings, the reading and file forms,
device tokens shown once and revoked) and retiring it. Only the owner sees a meter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from apps.solar import services
from apps.solar.factories import next_slot_start
from apps.solar.models import DeviceToken, Meter, MeterReading, Order
from apps.solar.services import Row
from p2pcommons.humanize import format_when_short

from .test_pages import html, place, words

pytestmark = pytest.mark.django_db

METERS = reverse("solar:meters")
NEW = reverse("solar:meter-create")


def url(name: str, meter: Meter, *args) -> str:
    return reverse(f"solar:{name}", args=[meter.pk, *args])


def quarter_ago(n: int = 1):
    """The start of the n-th quarter hour before the current one (it is over)."""
    return next_slot_start(timezone.now()) - timedelta(minutes=15 * (n + 2))


def local(moment) -> str:
    """What a datetime-local input sends: the wall-clock time, no offset."""
    return f"{timezone.localtime(moment):%Y-%m-%dT%H:%M}"


def csv_file(text: str, name: str = "readings.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


# --- the list and registering --------------------------------------------------------------
def test_my_meters_list_shows_each_with_its_kind_power_and_latest_reading(web_as, producer, panels):
    start = quarter_ago()
    services.readings_record(meter=panels, rows=[Row(start, 0, 300)], source="form", actor=producer)
    page = words(web_as(producer).get(METERS))
    assert "Roof panels" in page and "Solar panels (sells) · 4000 W · Sunnyside Commons" in page
    assert f"Latest reading: {format_when_short(start)}" in page


def test_registering_a_meter_takes_me_to_its_page(web_as, member, community):
    response = web_as(member).post(
        NEW,
        {
            "community": community.pk,
            "name": "Garage roof",
            "kind": "producer",
            "peak_capacity_w": "3200",
            "latitude": "52.3731",
            "longitude": "4.8922",
        },
        follow=True,
    )
    meter = Meter.objects.get(owner=member)
    assert (meter.name, meter.kind, meter.peak_capacity_w) == ("Garage roof", "producer", 3200)
    assert meter.approx_latitude is not None  # kept rounded, by the service
    page = words(response)
    assert "Garage roof is registered." in page and "up to 0.8 kWh a quarter hour" in page


def test_a_meter_without_a_name_or_with_half_a_location_shows_the_errors_on_the_form(web_as, member, community):
    data = {"community": community.pk, "name": " ", "kind": "producer", "peak_capacity_w": "3200", "latitude": "52.1"}
    response = web_as(member).post(NEW, data)
    page = words(response)
    assert "This field is required." in page  # the name
    data["name"] = "Shed"
    response = web_as(member).post(NEW, data)
    assert "Give both latitude and longitude, or neither." in words(response)
    assert 'value="Shed"' in html(response)
    assert not Meter.objects.filter(owner=member).exists()


def test_someone_in_no_community_is_asked_to_join_one_before_registering(web_as, stranger):
    assert "Join a community first." in words(web_as(stranger).get(NEW))


def test_someone_elses_meter_is_not_found_on_every_page(web_as, buyer, producer, panels):
    token, _ = services.device_token_create(meter=panels, actor=producer, label="Pi")
    client = web_as(buyer)
    assert client.get(url("meter", panels)).status_code == 404
    assert client.get(url("meter-retire", panels)).status_code == 404
    assert client.post(url("meter-retire", panels)).status_code == 404
    assert client.post(url("reading-create", panels), {}).status_code == 404
    assert client.post(url("reading-upload", panels), {}).status_code == 404
    assert client.post(url("token-create", panels), {"label": "Mine now"}).status_code == 404
    assert client.post(url("token-revoke", panels, token.pk)).status_code == 404
    assert "Roof panels" not in words(client.get(METERS))
    token.refresh_from_db()
    assert token.is_active and DeviceToken.objects.count() == 1


# --- the meter's page -----------------------------------------------------------------------
def test_the_meter_page_draws_the_last_24_hours_and_lists_the_readings(web_as, producer, panels):
    rows = [Row(quarter_ago(n), 10 * n, 100 * n) for n in range(1, 4)]
    services.readings_record(meter=panels, rows=rows, source="form", actor=producer)
    response = web_as(producer).get(url("meter", panels))
    page = words(response)
    assert 'class="solar-chart solar-chart-production"' in html(response)
    assert f"{timezone.localtime(quarter_ago(1)):%-d %b %H:%M} Entered by hand 0.01 0.1" in page
    assert "Stop using this meter" in page


def test_a_reading_typed_in_local_time_is_recorded(web_as, producer, panels):
    start = quarter_ago()
    response = web_as(producer).post(
        url("reading-create", panels),
        {"interval_start": local(start), "imported_wh": "5", "exported_wh": "640"},
        follow=True,
    )
    reading = MeterReading.objects.get(meter=panels)
    assert (reading.interval_start, reading.imported_wh, reading.exported_wh) == (start, 5, 640)
    assert f"The reading for {format_when_short(start)} is recorded." in words(response)


def test_a_different_reading_needs_the_correct_box_and_then_corrects_it(web_as, producer, panels):
    start = quarter_ago()
    services.readings_record(meter=panels, rows=[Row(start, 0, 500)], source="form", actor=producer)
    client = web_as(producer)
    data = {"interval_start": local(start), "imported_wh": "0", "exported_wh": "520"}
    response = client.post(url("reading-create", panels), data)
    page = words(response)
    assert "Already recorded as 0 Wh in, 500 Wh out. Tick 'correct' to replace it." in page
    assert "Row 1" not in page
    assert 'name="exported_wh" value="520"' in html(response)
    response = client.post(url("reading-create", panels), {**data, "correct": "on"}, follow=True)
    assert MeterReading.objects.get(meter=panels).exported_wh == 520
    assert "is corrected" in words(response) and "(corrected)" in words(response)


def test_a_reading_for_a_quarter_hour_not_over_yet_is_refused(web_as, producer, panels):
    start = next_slot_start(timezone.now())
    response = web_as(producer).post(
        url("reading-create", panels), {"interval_start": local(start), "imported_wh": "0", "exported_wh": "1"}
    )
    assert "This quarter hour is not over yet; send its reading afterwards." in words(response)
    assert not MeterReading.objects.exists()


def test_the_upload_form_explains_the_file_format(web_as, producer, panels):
    page = words(web_as(producer).get(url("meter", panels)))
    assert "interval_start,imported_wh,exported_wh" in page
    assert "2026-06-21T12:00:00+02:00,120,850" in page


def test_a_file_with_bad_lines_lists_every_one_and_writes_nothing(web_as, producer, panels):
    good = quarter_ago().isoformat()
    text = (
        "interval_start,imported_wh,exported_wh\n"
        f"{good},10,200\n"
        "yesterday noon,1,2\n"
        f"{quarter_ago(2).isoformat()},ten,2\n"
        f"{quarter_ago(3).isoformat()},1\n"
    )
    response = web_as(producer).post(url("reading-upload", panels), {"file": csv_file(text)})
    page = words(response)
    assert "Nothing from this file was saved. 3 problems:" in page
    assert "Line 3: 'yesterday noon' is not a date and time." in page
    assert "Line 4: Wh in and Wh out must be whole numbers." in page
    assert "Line 5: three values are needed (start, Wh in, Wh out)." in page
    assert html(response).count("<li>Line ") == 3
    assert not MeterReading.objects.exists()


def test_a_file_whose_rows_break_the_rules_names_each_by_its_line(web_as, producer, panels):
    text = (
        "interval_start,imported_wh,exported_wh\n"
        f"{quarter_ago().isoformat()},0,5000\n"  # more than 4000 W can pass in a quarter hour
        f"{next_slot_start(timezone.now()).isoformat()},0,1\n"  # not over yet
    )
    page = words(web_as(producer).post(url("reading-upload", panels), {"file": csv_file(text)}))
    assert "Line 2 (" in page and "5,000 Wh out in a quarter hour is more than this meter's" in page
    assert "Line 3 (" in page and "this quarter hour is not over yet" in page
    assert not MeterReading.objects.exists()


def test_a_good_file_records_every_reading(web_as, producer, panels):
    lines = [f"{quarter_ago(n).isoformat()},{n},{100 + n}" for n in range(1, 5)]
    text = "interval_start,imported_wh,exported_wh\n" + "\n".join(lines) + "\n"
    response = web_as(producer).post(url("reading-upload", panels), {"file": csv_file(text, "june.csv")}, follow=True)
    assert MeterReading.objects.filter(meter=panels).count() == 4
    assert "Readings from june.csv: 4 new." in words(response)


# --- device tokens ------------------------------------------------------------------------------
def test_a_new_device_token_is_shown_once_with_how_to_use_it(web_as, producer, panels):
    client = web_as(producer)
    response = client.post(url("token-create", panels), {"label": "Pi in the hall cupboard"})
    token = DeviceToken.objects.get(meter=panels)
    page = html(response)
    key = page.split('id="device-token" type="text" value="')[1].split('"')[0]
    assert key.startswith("p1m_") and key[:8] == token.prefix and key not in token.key_hash
    assert services.device_token_meter(key=key) == panels
    text = words(response)
    assert "it is shown only this once" in text
    assert f"Authorization: Device {key}" in text
    assert "/api/v1/solar/readings/" in text and "/api/v1/solar/readings/p1/" in text
    assert "no-store" in response["Cache-Control"]

    again = client.get(url("meter", panels))
    assert key not in html(again)
    # The device_token_meter call above was its first use.
    assert f"Pi in the hall cupboard · starts {token.prefix}…" in words(again) and "last used just now" in words(again)


def test_the_token_pages_instructions_work_a_device_posts_a_reading_with_them(web_as, client, producer, panels):
    response = web_as(producer).post(url("token-create", panels), {"label": "Pi"})
    key = html(response).split('id="device-token" type="text" value="')[1].split('"')[0]
    readings_url = html(response).split("POST ")[1].split("<")[0].strip()
    start = quarter_ago()
    client.logout()
    answer = client.post(
        readings_url,
        {"readings": [{"interval_start": start.isoformat(), "imported_wh": 3, "exported_wh": 120}]},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Device {key}",
    )
    assert answer.status_code == 201, answer.content
    reading = MeterReading.objects.get(meter=panels)
    assert (reading.interval_start, reading.exported_wh, reading.source) == (start, 120, MeterReading.Source.DEVICE)


def test_a_token_without_a_label_is_refused_on_the_meter_page(web_as, producer, panels):
    response = web_as(producer).post(url("token-create", panels), {"label": ""})
    assert 'id="token_label_errors"' in html(response)
    assert not DeviceToken.objects.exists()


def test_revoking_a_token_asks_first_and_then_stops_it(web_as, producer, panels):
    token, key = services.device_token_create(meter=panels, actor=producer, label="Pi")
    client = web_as(producer)
    confirm = words(client.get(url("token-revoke", panels, token.pk)))
    assert "Revoke the token for “Pi”?" in confirm
    token.refresh_from_db()
    assert token.is_active
    response = client.post(url("token-revoke", panels, token.pk), follow=True)
    token.refresh_from_db()
    assert not token.is_active
    assert services.device_token_meter(key=key) is None
    page = words(response)
    assert "is revoked: it no longer works" in page and "revoked " + format_when_short(token.revoked_at) in page


# --- retiring --------------------------------------------------------------------------------
def test_stopping_a_meter_asks_first_then_cancels_its_open_orders_and_hides_its_forms(web_as, producer, panels):
    order = place(producer, panels, next_slot_start(timezone.now(), ahead=2), "sell", 300, "0.2")
    client = web_as(producer)
    confirm = words(client.get(url("meter-retire", panels)))
    assert (
        "Stop using Roof panels?" in confirm and "Its open orders for the coming quarter hours are cancelled" in confirm
    )
    response = client.post(url("meter-retire", panels), follow=True)
    panels.refresh_from_db()
    order.refresh_from_db()
    assert panels.status == Meter.Status.RETIRED and order.status == Order.Status.CANCELLED
    page = words(response)
    assert "Roof panels is no longer used." in page and "No longer used" in page
    assert "Add a reading" not in page and "Make a device token" not in page and "Stop using this meter" not in page
