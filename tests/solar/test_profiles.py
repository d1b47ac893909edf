"""Demo meter readings look like a real street's: an Amsterdam rooftop exports around its
own solar noon, nothing at night and far less in December; a household without panels
peaks in the evening; days follow the local clock through daylight saving changes; and
the same seed always gives the same day."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from apps.solar.profiles import clear_sky_w, consumer_day, producer_day, quarter_starts

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
LATITUDE, LONGITUDE = 52.37, 4.89
MIDSUMMER, MIDWINTER = date(2026, 6, 21), date(2026, 12, 21)
SPRING_FORWARD, FALL_BACK = date(2026, 3, 29), date(2026, 10, 25)


def amsterdam_roof(day, *, seed=7, household_w=300):
    """A 4000 Wp array on an Amsterdam roof; ``household_w=0`` makes the meter show production alone."""
    return producer_day(
        latitude=LATITUDE,
        longitude=LONGITUDE,
        day=day,
        tz=AMSTERDAM,
        peak_w=4000,
        rng=random.Random(seed),
        household_w=household_w,
    )


def local_clock(moment):
    return moment.astimezone(AMSTERDAM).strftime("%H:%M")


def local_hours(moment):
    local = moment.astimezone(AMSTERDAM)
    return local.hour + local.minute / 60 + local.second / 3600


def exported_between(readings, first, last):
    """Wh exported in the quarters starting from ``first`` up to (not including) ``last``, local time."""
    return sum(exported for start, _, exported in readings if first <= local_clock(start) < last)


# --- the sun -------------------------------------------------------------------------------
def test_a_clear_summer_noon_at_mid_latitudes_gives_about_four_fifths_of_peak():
    around_noon = [datetime(2026, 6, 21, 11, 40, tzinfo=UTC) + timedelta(minutes=m) for m in range(40)]
    noon_at_45 = max(clear_sky_w(latitude=45.0, longitude=0.0, moment=moment, peak_w=1000) for moment in around_noon)
    assert 800 <= noon_at_45 <= 850


def test_the_clear_sky_peak_in_amsterdam_is_at_solar_noon_around_a_quarter_to_two_summer_time():
    quarters = quarter_starts(day=MIDSUMMER, tz=AMSTERDAM)
    power = {
        start: clear_sky_w(latitude=LATITUDE, longitude=LONGITUDE, moment=start + timedelta(minutes=7.5), peak_w=4000)
        for start in quarters
    }
    brightest = max(power, key=power.get)
    assert local_clock(brightest) in {"13:30", "13:45"}


def test_the_sun_gives_nothing_at_night_and_needs_a_timezone_to_be_placed():
    midnight = datetime(2026, 6, 21, 23, 0, tzinfo=UTC)
    assert clear_sky_w(latitude=LATITUDE, longitude=LONGITUDE, moment=midnight, peak_w=4000) == 0.0
    with pytest.raises(ValueError, match="needs a timezone"):
        clear_sky_w(latitude=LATITUDE, longitude=LONGITUDE, moment=midnight.replace(tzinfo=None), peak_w=4000)


# --- a producer ----------------------------------------------------------------------------
def test_a_june_roof_exports_most_in_the_hours_around_solar_noon():
    day = amsterdam_roof(MIDSUMMER)
    around_noon = exported_between(day, "12:30", "15:00")
    assert around_noon > exported_between(day, "08:00", "10:30")
    assert around_noon > exported_between(day, "17:00", "19:30")
    production = amsterdam_roof(MIDSUMMER, household_w=0)
    hours_weighted_by_wh = sum(local_hours(start + timedelta(minutes=7.5)) * wh for start, _, wh in production)
    middle = hours_weighted_by_wh / sum(wh for _, _, wh in production)
    assert 13.0 <= middle <= 14.5  # the day's production is centred on solar noon (13:42), clouds aside


def test_a_june_roof_exports_nothing_at_night():
    day = amsterdam_roof(MIDSUMMER)
    assert exported_between(day, "00:00", "04:00") == 0
    assert exported_between(day, "23:00", "24:00") == 0
    assert all(imported > 0 for start, imported, _ in day if local_clock(start) < "04:00")


def test_a_june_day_on_a_4000_watt_roof_exports_a_plausible_amount():
    for seed in range(20):
        exported = sum(exported for _, _, exported in amsterdam_roof(MIDSUMMER, seed=seed))
        assert 10_000 <= exported <= 30_000, seed


def test_a_december_day_produces_under_a_third_of_a_june_day_and_only_in_daylight():
    june = sum(exported for _, _, exported in amsterdam_roof(MIDSUMMER, household_w=0))
    december = amsterdam_roof(MIDWINTER, household_w=0)
    assert 0 < sum(exported for _, _, exported in december) < june / 3
    assert exported_between(december, "00:00", "08:45") == 0
    assert exported_between(december, "16:45", "24:00") == 0


def test_the_same_seed_gives_the_same_day_and_another_seed_another():
    assert amsterdam_roof(MIDSUMMER, seed=3) == amsterdam_roof(MIDSUMMER, seed=3)
    assert amsterdam_roof(MIDSUMMER, seed=3) != amsterdam_roof(MIDSUMMER, seed=4)
    consumer = consumer_day(day=MIDSUMMER, tz=AMSTERDAM, rng=random.Random(3))
    assert consumer == consumer_day(day=MIDSUMMER, tz=AMSTERDAM, rng=random.Random(3))
    assert consumer != consumer_day(day=MIDSUMMER, tz=AMSTERDAM, rng=random.Random(4))


@pytest.mark.parametrize("day", [MIDSUMMER, MIDWINTER, SPRING_FORWARD, FALL_BACK, date(2026, 4, 15)])
def test_readings_are_whole_non_negative_wh_and_a_quarter_never_both_imports_and_exports(day):
    for seed in range(5):
        days = [amsterdam_roof(day, seed=seed), consumer_day(day=day, tz=AMSTERDAM, rng=random.Random(seed))]
        for _, imported, exported in (reading for readings in days for reading in readings):
            assert type(imported) is int and type(exported) is int
            assert imported >= 0 and exported >= 0
            assert imported == 0 or exported == 0


def test_a_sunny_roof_exports_at_midday_and_imports_in_the_evening():
    day = amsterdam_roof(MIDSUMMER)
    assert exported_between(day, "11:00", "16:00") > 0
    assert sum(imported for start, imported, _ in day if "19:00" <= local_clock(start) < "22:00") > 0


# --- a consumer ----------------------------------------------------------------------------
def test_a_household_without_panels_uses_most_in_the_evening_and_never_exports():
    for seed in range(10):
        day = consumer_day(day=MIDSUMMER, tz=AMSTERDAM, rng=random.Random(seed))
        by_clock = {local_clock(start): imported for start, imported, _ in day}
        evening = sum(wh for clock, wh in by_clock.items() if "17:00" <= clock < "21:00") / 16
        morning = sum(wh for clock, wh in by_clock.items() if "07:00" <= clock < "09:00") / 8
        night = sum(wh for clock, wh in by_clock.items() if "01:00" <= clock < "05:00") / 16
        assert evening > morning > night > 0
        assert evening > 3 * night
        assert all(exported == 0 for _, _, exported in day)


# --- the quarters of a day -----------------------------------------------------------------
def test_a_day_is_96_quarters_from_local_midnight_in_utc():
    starts = quarter_starts(day=MIDSUMMER, tz=AMSTERDAM)
    assert len(starts) == 96
    assert starts[0] == datetime(2026, 6, 20, 22, 0, tzinfo=UTC)  # midnight summer time
    assert all(start.tzinfo is UTC and start.minute % 15 == 0 and start.second == 0 for start in starts)
    assert all(later - earlier == timedelta(minutes=15) for earlier, later in pairwise(starts))


@pytest.mark.parametrize(("day", "quarters"), [(SPRING_FORWARD, 92), (FALL_BACK, 100)])
def test_days_when_the_clocks_change_have_the_quarters_a_meter_records(day, quarters):
    assert len(quarter_starts(day=day, tz=AMSTERDAM)) == quarters
    assert len(amsterdam_roof(day)) == quarters
    assert len(consumer_day(day=day, tz=AMSTERDAM, rng=random.Random(1))) == quarters
    starts = [start for start, _, _ in amsterdam_roof(day)]
    assert local_clock(starts[0]) == "00:00"
    assert starts[-1] + timedelta(minutes=15) == datetime.combine(day + timedelta(days=1), time(0), tzinfo=AMSTERDAM)


def test_a_day_whose_midnight_the_clocks_skip_starts_at_the_first_instant_after_it():
    santiago = ZoneInfo("America/Santiago")  # 2026-09-06 00:00 -04 becomes 01:00 -03
    starts = quarter_starts(day=date(2026, 9, 6), tz=santiago)
    assert len(starts) == 92
    assert starts[0] == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
    assert quarter_starts(day=date(2026, 9, 5), tz=santiago)[-1] == starts[0] - timedelta(minutes=15)


def test_a_day_whose_midnight_is_not_on_a_quarter_hour_is_refused():
    with pytest.raises(ValueError, match="does not fall on a quarter hour"):
        quarter_starts(day=date(1930, 6, 1), tz=AMSTERDAM)  # Amsterdam Mean Time: UTC+0:19:32
