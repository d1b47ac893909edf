"""Demo meter readings for the solar exchange's demo neighborhood: what a rooftop array
and a household put through their meter, quarter hour by quarter hour.

Why modelled rather than random numbers: the demo must show the market doing what a
real street does (sellers with a surplus around midday, buyers hungriest in the evening,
a winter day a fraction of a summer one, a dip when a cloud passes), or its order books,
clearing prices and pages would tell a story no neighborhood has. So production follows
the sun's real position for the place and the day, and use follows a household's day.

Pure Python, no database. A reading is ``(interval_start, imported_wh, exported_wh)``:
``interval_start`` an aware UTC datetime on a quarter-hour boundary and whole Wh, the
shape ``p1.to_intervals`` gives from a real meter. The same ``rng`` seed gives the same
day, so a seeded demo is the same on every machine.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

QUARTER = timedelta(minutes=15)
QUARTER_HOURS = 0.25  # W over a quarter hour, times this, is Wh

Reading = tuple[datetime, int, int]  # (interval_start UTC, imported_wh, exported_wh)

# Haurwitz's clear-sky model (Haurwitz 1945; as in pvlib's ``clearsky.haurwitz``): global
# horizontal irradiance GHI = 1098 W/m² · cos z · exp(-0.059 / cos z) for zenith angle z.
_HAURWITZ_W_M2 = 1098.0
_HAURWITZ_EXTINCTION = 0.059
_RATED_W_M2 = 1000.0  # panels are rated (Wp) at 1000 W/m² (standard test conditions)
# What reaches the meter of a panel's rating at that irradiance, after inverter, wiring and
# warm-cell losses. 0.88 puts a summer noon between 45° and 50° latitude at 81-84 % of peak.
PERFORMANCE_RATIO = 0.88

# Power is averaged over three points of each quarter (a 5-minute midpoint rule), so the
# quarter in which the sun rises gets the part of it that is after sunrise.
_SAMPLE_OFFSETS = (timedelta(minutes=2.5), timedelta(minutes=7.5), timedelta(minutes=12.5))

# Passing clouds: how many a day may bring, how long one lasts (minutes), how much of the
# sunlight it takes away, and the least that gets through when several overlap (diffuse
# light under a thick cloud).
_CLOUDS_PER_DAY = (0, 6)
_CLOUD_MINUTES = (15.0, 60.0)
_CLOUD_DEPTH = (0.3, 0.8)
_CLOUD_RAMP_MINUTES = 5.0
_LEAST_LIGHT = 0.15
# Haze and dust: a clear day still varies a little from the next.
_CLEARNESS = (0.92, 1.0)

# A household with panels is modelled as one without: its evening peak is this many times
# its base load (300 W base, about 1.8 kW while cooking).
_PRODUCER_PEAK_OVER_BASE = 6
# Quarter-hour noise on use: appliances switching on and off around the day's shape.
_USE_NOISE = 0.1
_USE_NOISE_FLOOR = 0.5


def clear_sky_w(*, latitude: float, longitude: float, moment: datetime, peak_w: int) -> float:
    """Output in W of a rooftop array rated ``peak_w`` (Wp) at ``moment`` under a clear sky.

    Solar geometry, so a demo street in Amsterdam peaks at its own solar noon (about 13:40
    summer time, not 12:00) and has short winter days: day of year → declination (Cooper
    1969: δ = 23.45° · sin(360° · (284 + n) / 365)) and equation of time (the usual fit
    9.87 sin 2B - 7.53 cos B - 1.5 sin B minutes, B = 360° · (n - 81) / 364); solar time =
    UTC + 4 minutes per degree of longitude east + equation of time; hour angle 15° per hour
    from solar noon; cos zenith = sin φ sin δ + cos φ cos δ cos ω. The irradiance is
    Haurwitz's clear-sky model (see ``_HAURWITZ_W_M2``), whose exp(-0.059 / cos z) term is
    the longer path through the air of a low sun; the array gets it on the horizontal,
    times ``PERFORMANCE_RATIO``. 0 while the sun is below the horizon.

    Floats on purpose: this is physics; the readings built from it are whole Wh.
    """
    if moment.utcoffset() is None:
        raise ValueError("The moment needs a timezone: solar time is counted from UTC.")
    if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
        raise ValueError("Latitude must be between -90 and 90 and longitude between -180 and 180 degrees.")
    if peak_w < 0:
        raise ValueError("An array's peak power can't be negative.")
    cos_zenith = _cos_zenith(latitude=latitude, longitude=longitude, moment=moment.astimezone(UTC))
    if cos_zenith <= 0:
        return 0.0
    irradiance = _HAURWITZ_W_M2 * cos_zenith * math.exp(-_HAURWITZ_EXTINCTION / cos_zenith)
    return peak_w * irradiance / _RATED_W_M2 * PERFORMANCE_RATIO


def _cos_zenith(*, latitude: float, longitude: float, moment: datetime) -> float:
    """cos of the sun's zenith angle (= sin of its elevation) at a UTC ``moment``."""
    utc_hours = moment.hour + moment.minute / 60 + (moment.second + moment.microsecond / 1e6) / 3600
    # The day of year runs on through the day, so a place near the date line sees no jump
    # in declination at UTC midnight (its noon).
    n = moment.timetuple().tm_yday + utc_hours / 24
    declination = math.radians(23.45) * math.sin(2 * math.pi * (284 + n) / 365)
    b = 2 * math.pi * (n - 81) / 364
    equation_of_time_minutes = 9.87 * math.sin(2 * b) - 7.53 * math.cos(b) - 1.5 * math.sin(b)
    solar_hours = utc_hours + (4 * longitude + equation_of_time_minutes) / 60
    hour_angle = math.radians(15 * (solar_hours - 12))
    phi = math.radians(latitude)
    return math.sin(phi) * math.sin(declination) + math.cos(phi) * math.cos(declination) * math.cos(hour_angle)


def quarter_starts(*, day: date, tz: tzinfo) -> list[datetime]:
    """The starts (aware, UTC) of every real quarter hour between local midnights of ``day``.

    Counted in UTC, not on the local clock, so a day when the clocks go forward has 92
    quarters and one when they go back has 100, as a meter records them. A midnight that
    the clocks skip starts the day at the first instant after it (``fold=0``).
    """
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    if start.minute % 15 or start.second or start.microsecond or (end - start) % QUARTER:
        raise ValueError(f"Midnight in {tz} does not fall on a quarter hour, so its day can't be cut into quarters.")
    return [start + i * QUARTER for i in range((end - start) // QUARTER)]


def producer_day(
    *,
    latitude: float,
    longitude: float,
    day: date,
    tz: tzinfo,
    peak_w: int,
    rng: random.Random,
    household_w: int = 300,
) -> list[Reading]:
    """One local day of a household with a rooftop array of ``peak_w`` Wp, as its meter sees it.

    Production is ``clear_sky_w`` times the day's clearness and its passing clouds (a few
    events of 15-60 minutes that each take 30-80 % of the light, fading in and out over a
    few minutes); the household first uses its own power (a base load of about
    ``household_w`` with morning and evening peaks; 0 makes the meter show production
    alone), and only the rest of each quarter is exported, as a meter nets it. A quarter
    therefore imports or exports, never both. All randomness comes from ``rng``.
    """
    if household_w < 0:
        raise ValueError("A household's base load can't be negative.")
    starts = quarter_starts(day=day, tz=tz)
    day_start = starts[0]
    clouds = _clouds(rng=rng, day_minutes=len(starts) * 15)
    clearness = rng.uniform(*_CLEARNESS)
    habits = _Habits.draw(rng)
    readings = []
    for start in starts:
        produced_w = 0.0
        for offset in _SAMPLE_OFFSETS:
            moment = start + offset
            sun_w = clear_sky_w(latitude=latitude, longitude=longitude, moment=moment, peak_w=peak_w)
            if sun_w:
                minute = (moment - day_start) / timedelta(minutes=1)
                produced_w += sun_w * clearness * _cloud_factor(clouds=clouds, minute=minute)
        produced_w /= len(_SAMPLE_OFFSETS)
        used_w = _use_w(
            hour=_local_hour(moment=start + QUARTER / 2, tz=tz),
            base_w=household_w,
            peak_w=household_w * _PRODUCER_PEAK_OVER_BASE,
            habits=habits,
        ) * _noise(rng)
        readings.append(_reading(start=start, net_wh=(produced_w - used_w) * QUARTER_HOURS))
    return readings


def consumer_day(*, day: date, tz: tzinfo, rng: random.Random, base_w: int = 250, peak_w: int = 2500) -> list[Reading]:
    """One local day of a household without panels: it only imports.

    A base load of ``base_w`` (fridge, standby, heating pump) with a morning peak around
    7-9 and a bigger one around 17-21 local time reaching about ``peak_w``, when people
    cook and the lights are on: the hours in which the exchange's buyers need the most.
    The peaks' timing and height shift a little from day to day, and each quarter has some
    noise; all of it from ``rng``.
    """
    if base_w < 0 or peak_w < 0:
        raise ValueError("A household's load can't be negative.")
    habits = _Habits.draw(rng)
    readings = []
    for start in quarter_starts(day=day, tz=tz):
        used_w = _use_w(
            hour=_local_hour(moment=start + QUARTER / 2, tz=tz), base_w=base_w, peak_w=peak_w, habits=habits
        ) * _noise(rng)
        readings.append(_reading(start=start, net_wh=-used_w * QUARTER_HOURS))
    return readings


@dataclass(frozen=True, slots=True)
class _Cloud:
    """A cloud passing over the array: from ``start`` (minutes after the day's first
    instant), for ``minutes``, taking ``depth`` of the light at its thickest."""

    start: float
    minutes: float
    depth: float


def _clouds(*, rng: random.Random, day_minutes: int) -> list[_Cloud]:
    """The day's passing clouds, anywhere in the day (those at night change nothing)."""
    return [
        _Cloud(
            start=rng.uniform(0, day_minutes),
            minutes=rng.uniform(*_CLOUD_MINUTES),
            depth=rng.uniform(*_CLOUD_DEPTH),
        )
        for _ in range(rng.randint(*_CLOUDS_PER_DAY))
    ]


def _cloud_factor(*, clouds: list[_Cloud], minute: float) -> float:
    """The share of the light that gets through at ``minute``. A cloud's edge thins out
    over a few minutes (a smooth ramp), so output dips and recovers rather than jumping;
    overlapping clouds multiply, down to ``_LEAST_LIGHT``."""
    factor = 1.0
    for cloud in clouds:
        into = minute - cloud.start
        if 0 < into < cloud.minutes:
            edge = min(into, cloud.minutes - into)
            ramp = min(_CLOUD_RAMP_MINUTES, cloud.minutes / 4)
            thickness = 1.0 if edge >= ramp else math.sin(math.pi / 2 * edge / ramp) ** 2
            factor *= 1 - cloud.depth * thickness
    return max(factor, _LEAST_LIGHT)


@dataclass(frozen=True, slots=True)
class _Habits:
    """When a household's peaks come on a given day and how high they get (as a share of
    the room between base load and peak): people don't get up at the same minute daily."""

    morning_hour: float
    evening_hour: float
    morning_height: float
    evening_height: float

    @classmethod
    def draw(cls, rng: random.Random) -> _Habits:
        return cls(
            morning_hour=rng.uniform(7.25, 8.25),
            evening_hour=rng.uniform(18.5, 19.5),
            morning_height=rng.uniform(0.3, 0.5),
            evening_height=rng.uniform(0.85, 1.0),
        )


def _bump(*, hour: float, middle: float, width: float) -> float:
    """0 outside ``middle ± width / 2``, rising smoothly to 1 at ``middle`` (a raised
    cosine): a household's use builds up and fades as people get up or come home."""
    x = (hour - middle) / width
    return math.cos(math.pi * x) ** 2 if -0.5 < x < 0.5 else 0.0


def _use_w(*, hour: float, base_w: int, peak_w: int, habits: _Habits) -> float:
    """A household's use in W at local ``hour``, before noise: base load plus a morning
    peak (about 6:30-9:30) and a bigger evening one (about 16-22)."""
    room = max(0, peak_w - base_w)
    morning = habits.morning_height * _bump(hour=hour, middle=habits.morning_hour, width=2.5)
    evening = habits.evening_height * _bump(hour=hour, middle=habits.evening_hour, width=5.0)
    return base_w + room * (morning + evening)


def _noise(rng: random.Random) -> float:
    return max(_USE_NOISE_FLOOR, rng.gauss(1.0, _USE_NOISE))


def _local_hour(*, moment: datetime, tz: tzinfo) -> float:
    local = moment.astimezone(tz)
    return local.hour + local.minute / 60 + local.second / 3600


def _reading(*, start: datetime, net_wh: float) -> Reading:
    """A quarter's reading from its net energy (production minus use): positive goes out
    through the export register, negative comes in through the import one."""
    wh = round(abs(net_wh))
    return (start, wh, 0) if net_wh < 0 else (start, 0, wh)
