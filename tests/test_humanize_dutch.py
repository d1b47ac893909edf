"""Amounts, moments and "how long ago" read naturally in Dutch (issue 16), while English
stays exactly as tests/test_humanize.py says."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import formats, translation

from p2pcommons.humanize import format_ago, format_amount, format_when, format_when_short

# 09:00 UTC on a winter Tuesday is 10:00 in Amsterdam (TIME_ZONE).
WINTER_NINE_UTC = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def ago(minutes: float, **kwargs) -> str:
    """format_ago with Django's non-breaking spaces as plain ones."""
    now = WINTER_NINE_UTC + timedelta(minutes=minutes, **kwargs)
    return format_ago(WINTER_NINE_UTC, now=now).replace("\xa0", " ")


@pytest.fixture
def dutch():
    with translation.override("nl"):
        yield


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (Decimal("1.5"), "HOUR", "1,50 uur"),
        (Decimal("1.00"), "HOUR", "1 uur"),
        (Decimal("2"), "HOUR", "2 uur"),
        (Decimal("0.25"), "HOUR", "0,25 uur"),
        (Decimal("-3.00"), "CREDIT", "-3 credits"),
        (Decimal("-1"), "CREDIT", "-1 credit"),
        (Decimal("1"), "CREDIT", "1 credit"),
        (Decimal("12.50"), "CREDIT", "12,50 credits"),
        (Decimal("1234.5"), "CREDIT", "1234,50 credits"),  # never grouped in thousands
        ("0", "CREDIT", "0 credits"),
    ],
)
def test_an_amount_reads_in_dutch_with_a_decimal_comma_and_a_dutch_unit(dutch, amount, currency, shown):
    assert format_amount(amount, currency) == shown


def test_a_signed_amount_in_dutch_keeps_its_plus(dutch):
    assert format_amount(Decimal("1.5"), "HOUR", signed=True) == "+1,50 uur"
    assert format_amount(Decimal("-1"), "HOUR", signed=True) == "-1 uur"


def test_english_amounts_are_unchanged_when_english_is_active():
    with translation.override("en"):
        assert format_amount(Decimal("1.5"), "HOUR") == "1.50 hours"
        assert format_amount(Decimal("1234.5"), "CREDIT") == "1234.50 credits"
        assert format_amount(Decimal("1"), "HOUR") == "1 hour"


def test_moments_read_in_dutch_day_before_month_on_a_24_hour_clock(dutch):
    assert format_when(WINTER_NINE_UTC) == "dinsdag 24 november 2026, 10:00"
    assert format_when_short(WINTER_NINE_UTC) == "di 24 nov, 10:00"


def test_how_long_ago_reads_in_dutch(dutch):
    assert ago(0, seconds=20) == "zojuist"
    assert ago(5) == "5 minuten geleden"
    assert ago(3, hours=2) == "2 uur, 3 minuten geleden"
    # after a week: the moment itself, in the short Dutch form
    assert ago(0, days=8) == "di 24 nov, 10:00"


def test_how_long_ago_in_english_is_unchanged():
    with translation.override("en"):
        assert ago(0, seconds=20) == "just now"
        assert ago(5) == "5 minutes ago"


def test_the_dutch_date_formats_have_the_english_shape(dutch):
    day = date(2026, 11, 24)
    assert formats.date_format(day) == "di 24 nov 2026"
    assert formats.date_format(day, "SHORT_DATE_FORMAT") == "24 nov 2026"
    assert formats.date_format(datetime(2026, 11, 24, 14, 5, tzinfo=UTC), "DATETIME_FORMAT") == "di 24 nov 2026, 14:05"
    assert formats.get_format("FIRST_DAY_OF_WEEK") == 1
    with translation.override("en"):
        assert formats.date_format(day) == "Tue 24 Nov 2026"


def test_templates_write_dutch_amounts_and_moments_with_the_same_helper(dutch):
    template = Template("{% load plain %}{{ a|amount:'HOUR' }} | {{ b|signed_amount:'CREDIT' }} | {{ t|when_short }}")
    shown = template.render(Context({"a": Decimal("1.50"), "b": Decimal("3"), "t": WINTER_NINE_UTC}))
    assert shown == "1,50 uur | +3 credits | di 24 nov, 10:00"
