"""The energy market in Dutch: pages, a refusal, CSV upload errors naming their lines,
and a clearing notification read in Dutch while stored in English."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from apps.notifications.models import Notification
from apps.solar import services
from apps.solar.factories import next_slot_start
from apps.solar.models import Slot
from p2pcommons.i18n import Message

from .test_pages import open_slot, place, settled, slot_url, words  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

NL = {"HTTP_ACCEPT_LANGUAGE": "nl"}


@pytest.fixture(autouse=True)
def back_in_english():
    """A Dutch request leaves Dutch active in this thread: later tests read English."""
    yield
    translation.deactivate()


def test_the_market_page_reads_in_dutch(web_as, buyer, open_slot):  # noqa: F811
    page = words(web_as(buyer).get(reverse("solar:market"), **NL))
    assert "Kwartieren die orders aannemen" in page
    assert "1 kooporder en 1 verkooporder tot nu toe" in page
    assert "Orders voor het volgende kwartier" in page
    assert "Quarter hours taking orders" not in page
    assert "1 buy order and 1 sell order so far" not in page


def test_a_settled_quarter_hour_reads_in_dutch(web_as, buyer, settled):  # noqa: F811
    page = words(web_as(buyer).get(slot_url(settled), **NL))
    assert "Afgerekend op de meterstanden. 0.5 kWh verhandeld tegen 0.25 credits per kWh." in page
    assert "Gekocht van Pia Producer" in page
    assert "Settled from the meter readings" not in page
    assert "Bought from" not in page


def test_my_meters_and_a_meter_page_read_in_dutch(web_as, producer, panels):
    client = web_as(producer)
    listing = words(client.get(reverse("solar:meters"), **NL))
    assert "Mijn meters" in listing and "Zonnepanelen (verkoopt)" in listing
    assert "Solar panels (sells)" not in listing
    page = words(client.get(panels.get_absolute_url(), **NL))
    assert "Meterstanden uploaden uit een bestand" in page
    assert "Apparaattokens" in page
    assert "Upload readings from a file" not in page


def test_a_refused_order_is_explained_in_dutch(web_as, producer, panels):
    start = next_slot_start(timezone.now(), ahead=2)
    data = {
        "meter": panels.pk,
        "slot": start.isoformat(),
        "side": "sell",
        "quantity_kwh": "5",  # far more than 4000 W pass in a quarter hour
        "limit_price": "0.2",
    }
    page = words(web_as(producer).post(reverse("solar:order-create"), data, **NL))
    assert "levert hoogstens 1,000 Wh in een kwartier" in page
    assert "passes at most" not in page


def test_csv_upload_errors_name_their_lines_in_dutch(web_as, producer, panels):
    text = "interval_start,imported_wh,exported_wh\nyesterday noon,1,2\n"
    upload = SimpleUploadedFile("readings.csv", text.encode(), content_type="text/csv")
    url = reverse("solar:reading-upload", args=[panels.pk])
    page = words(web_as(producer).post(url, {"file": upload}, **NL))
    assert "Er is niets uit dit bestand opgeslagen. 1 probleem:" in page
    assert "Regel 2: 'yesterday noon' is geen datum en tijd." in page
    assert "Line 2" not in page


def test_a_form_error_on_one_reading_drops_its_row_name_in_dutch(web_as, producer, panels):
    future = timezone.localtime(next_slot_start(timezone.now(), ahead=2))
    data = {"interval_start": future.strftime("%Y-%m-%dT%H:%M"), "imported_wh": "1", "exported_wh": "2"}
    url = reverse("solar:reading-create", args=[panels.pk])
    page = words(web_as(producer).post(url, data, **NL))
    assert "Dit kwartier is nog niet voorbij; stuur de meterstand daarna." in page
    assert "Rij 1" not in page


def test_the_clearing_notification_is_stored_in_english_and_read_in_dutch(
    producer, buyer, panels, home, django_capture_on_commit_callbacks
):
    start = next_slot_start(timezone.now(), ahead=2)
    place(producer, panels, start, "sell", 500, "0.20")
    place(buyer, home, start, "buy", 400, "0.30")
    slot = Slot.objects.get(start=start)
    with django_capture_on_commit_callbacks(execute=True):  # the traders are told after the commit
        assert services.slot_clear(slot_id=slot.pk, now=start - timedelta(minutes=4))
    told = Notification.objects.get(kind="solar.cleared", recipient=buyer)
    assert told.text.startswith("Energy market, ") and told.text.endswith(
        ": all 0.4 kWh bought at 0.25 credits per kWh."
    )
    with translation.override("nl"):
        dutch = str(Message.from_json(told.message))
    assert dutch.startswith("Energiemarkt, ") and dutch.endswith(": alle 0.4 kWh gekocht tegen 0.25 credits per kWh.")
    assert Decimal("0.25") == Slot.objects.get(pk=slot.pk).clearing_price
