"""The solar market's SVG charts (apps/solar/charts.py), read as a browser and a screen
reader get them: well-formed SVG with an accessible name and description, a viewBox that
scales to a phone, curves that go the way an order book goes, the cleared point only when
there is one, every text escaped, Decimal numbers without float artefacts, and a sentence
instead of a blank chart when there is nothing to draw. No database."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.solar.charts import daily_bars_svg, format_kwh, format_price, production_svg, slots_svg, supply_demand_svg

SVG = "{http://www.w3.org/2000/svg}"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NOON_UTC = datetime(2026, 6, 3, 12, 0, tzinfo=UTC)  # 14:00 in Amsterdam (summer, UTC+2)

BUYS = [(500, Decimal("0.30")), (300, Decimal("0.40")), (1200, Decimal("0.10"))]
SELLS = [(250, Decimal("0.20")), (200, Decimal("0.05")), (400, Decimal("0.35"))]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 - our own markup, parsed to check it
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    """What a sighted person reads on the chart."""
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def coordinates(polyline: ET.Element) -> list[tuple[float, float]]:
    return [tuple(float(n) for n in pair.split(",")) for pair in polyline.get("points").split()]


def corners(polyline: ET.Element) -> list[tuple[int, Decimal]]:
    return [(int(wh), Decimal(price)) for wh, price in (c.split(":") for c in polyline.get("data-corners").split())]


def slots(prices: list[str | None], *, volume: int = 1000, start: datetime = NOON_UTC) -> list:
    return [
        (start + timedelta(minutes=15 * i), None if p is None else Decimal(p), 0 if p is None else volume)
        for i, p in enumerate(prices)
    ]


def a_book(**overrides):
    return supply_demand_svg(
        **{"buys": BUYS, "sells": SELLS, "price": Decimal("0.2250"), "volume_wh": 450, "title": "Orders"} | overrides
    )


def some_slots(**overrides):
    return slots_svg(**{"points": slots(["0.20", "0.25", None, "0.30"]), "title": "Slots", "tz": AMSTERDAM} | overrides)


def some_days(**overrides):
    days = [(date(2026, 6, 1), 1500, 250), (date(2026, 6, 2), 0, 4000)]
    return daily_bars_svg(**{"days": days, "title": "Days", "labels": ("Sold", "Bought")} | overrides)


def some_readings(**overrides):
    points = [(NOON_UTC + timedelta(minutes=15 * i), 100 * i, 50) for i in range(8)]
    return production_svg(**{"points": points, "title": "My panels", "tz": AMSTERDAM} | overrides)


EVERY_CHART = [a_book, some_slots, some_days, some_readings]


# --- what every chart is -------------------------------------------------------------------
@pytest.mark.parametrize("chart", EVERY_CHART)
def test_a_chart_is_an_image_named_by_its_title_and_described_in_words(chart):
    root = parse(chart(title="Energy today"))
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.text == "Energy today"
    assert len(desc.text) > 20
    ids = {element.get("id") for element in (title, desc)}
    assert set(root.get("aria-labelledby").split()) == ids


@pytest.mark.parametrize("chart", EVERY_CHART)
def test_a_chart_scales_to_the_width_of_a_phone(chart):
    root = parse(chart())
    assert root.get("width") == "100%"
    assert root.get("height") is None
    left, top, width, height = (float(n) for n in root.get("viewBox").split())
    assert (left, top) == (0, 0) and width <= 400 and height > 0
    for text in root.iter(f"{SVG}text"):
        assert 0 <= float(text.get("x")) <= width and 0 <= float(text.get("y")) <= height


@pytest.mark.parametrize("chart", EVERY_CHART)
def test_a_chart_needs_no_script_no_inline_style_and_nothing_from_elsewhere(chart):
    svg = chart()
    root = parse(svg)
    assert not [e for e in root.iter() if e.tag in (f"{SVG}script", f"{SVG}style", f"{SVG}image")]
    assert not [e for e in root.iter() if "style" in e.attrib or any(k.startswith("on") for k in e.attrib)]
    assert svg.count("http") == 1  # the SVG namespace, nothing to fetch


@pytest.mark.parametrize("chart", EVERY_CHART)
def test_a_chart_looks_right_without_css_and_can_be_restyled_with_it(chart):
    root = parse(chart())
    for shape in root.iter():
        if shape.tag in (f"{SVG}polyline", f"{SVG}polygon", f"{SVG}rect", f"{SVG}circle", f"{SVG}line"):
            assert shape.get("fill") or shape.get("stroke"), shape.attrib
    assert "solar-chart" in root.get("class").split()


@pytest.mark.parametrize("chart", EVERY_CHART)
def test_the_title_is_escaped_and_shown_as_written(chart):
    svg = chart(title='Slot <script>alert("x")</script> & more')
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg
    assert parse(svg).find(f"{SVG}title").text == 'Slot <script>alert("x")</script> & more'


@pytest.mark.parametrize("chart", EVERY_CHART)
def test_no_number_on_a_chart_shows_a_float_artefact(chart):
    root = parse(chart())
    shown = " ".join([*texts(root), root.find(f"{SVG}desc").text])
    assert not re.search(r"\d\.\d{5,}|e[+-]\d", shown)


# --- the order book ------------------------------------------------------------------------
def test_demand_steps_down_from_the_highest_buy_and_supply_up_from_the_lowest_sell():
    root = parse(a_book())
    demand = root.find(f".//{SVG}polyline[@class='solar-demand']")
    supply = root.find(f".//{SVG}polyline[@class='solar-supply']")
    assert corners(demand) == [
        (0, Decimal("0.4")),
        (300, Decimal("0.4")),
        (300, Decimal("0.3")),
        (800, Decimal("0.3")),
        (800, Decimal("0.1")),
        (2000, Decimal("0.1")),
    ]
    assert corners(supply) == [
        (0, Decimal("0.05")),
        (200, Decimal("0.05")),
        (200, Decimal("0.2")),
        (450, Decimal("0.2")),
        (450, Decimal("0.35")),
        (850, Decimal("0.35")),
    ]


@given(
    buys=st.lists(st.tuples(st.integers(1, 10_000), st.integers(0, 9_999)), max_size=30),
    sells=st.lists(st.tuples(st.integers(1, 10_000), st.integers(0, 9_999)), max_size=30),
)
def test_the_drawn_demand_never_rises_and_the_drawn_supply_never_falls(buys, sells):
    def book(orders):
        return [(wh, Decimal(ticks).scaleb(-4)) for wh, ticks in orders]

    svg = supply_demand_svg(buys=book(buys), sells=book(sells), price=None, volume_wh=None, title="Any book")
    if not buys and not sells:
        assert "No orders yet for this slot." in svg
        return
    root = parse(svg)
    for cls, orders, goes_up in (("solar-demand", buys, False), ("solar-supply", sells, True)):
        line = root.find(f".//{SVG}polyline[@class='{cls}']")
        if not orders:
            assert line is None
            continue
        prices = [price for _, price in corners(line)]
        assert prices == sorted(prices, reverse=not goes_up)
        assert corners(line)[-1][0] == sum(wh for wh, _ in orders)
        points = coordinates(line)  # SVG y grows downwards: a rising price is a falling y
        assert [x for x, _ in points] == sorted(x for x, _ in points)
        assert [y for _, y in points] == sorted((y for _, y in points), reverse=goes_up)


def test_the_cleared_point_is_marked_and_written_out_when_the_slot_cleared():
    root = parse(a_book(price=Decimal("0.2250"), volume_wh=450))
    marks = root.findall(f".//{SVG}circle[@class='solar-cleared']")
    assert len(marks) == 1 and marks[0].get("data-wh") == "450" and marks[0].get("data-price") == "0.225"
    assert "Cleared: 0.45 kWh at 0.225 credits per kWh" in texts(root)
    assert "Cleared: 0.45 kWh at 0.225 credits per kWh." in root.find(f"{SVG}desc").text


def test_no_cleared_point_is_drawn_before_the_slot_clears():
    root = parse(a_book(price=None, volume_wh=None))
    assert root.find(f".//{SVG}circle") is None
    assert not [t for t in texts(root) if "Cleared" in t]
    assert "Cleared" not in root.find(f"{SVG}desc").text


def test_a_clearing_price_without_its_volume_is_refused():
    with pytest.raises(ValueError, match="both a price and a volume"):
        a_book(price=Decimal("0.2"), volume_wh=None)


def test_the_book_says_in_words_what_each_side_offers():
    desc = parse(a_book()).find(f"{SVG}desc").text
    assert "3 buy orders for 2 kWh in total, at 0.1 to 0.4 credits per kWh." in desc
    assert "3 sell orders for 0.85 kWh in total, at 0.05 to 0.35 credits per kWh." in desc


def test_a_book_with_only_sellers_draws_supply_and_says_there_are_no_buyers():
    root = parse(a_book(buys=[], price=None, volume_wh=None))
    assert root.find(f".//{SVG}polyline[@class='solar-demand']") is None
    assert root.find(f".//{SVG}polyline[@class='solar-supply']") is not None
    assert root.find(f"{SVG}desc").text.startswith("No buy orders yet.")


def test_the_axes_speak_of_credits_per_kwh_and_kwh():
    shown = texts(parse(a_book()))
    assert "credits per kWh" in shown and "kWh (running total)" in shown
    assert {"0", "0.1", "0.2", "0.3", "0.4"} <= set(shown)


def test_an_empty_book_says_so_instead_of_drawing_a_blank_chart():
    shown = supply_demand_svg(buys=[], sells=[], price=None, volume_wh=None, title="Orders")
    assert "<svg" not in shown
    assert ET.fromstring(shown).text == "No orders yet for this slot."  # noqa: S314


@pytest.mark.parametrize("price", [0.1, "0.1", Decimal("NaN"), Decimal("Infinity"), Decimal("-0.1")])
def test_a_price_that_is_not_a_plain_decimal_is_refused_so_no_float_reaches_the_page(price):
    with pytest.raises(ValueError, match="never a float"):
        a_book(buys=[(100, price)])


# --- numbers -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("wh", "shown"), [(1250, "1.25 kWh"), (0, "0 kWh"), (1000, "1 kWh"), (1, "0 kWh"), (1_234_567, "1,234.57 kWh")]
)
def test_energy_is_written_in_kwh_with_up_to_two_decimals(wh, shown):
    assert format_kwh(wh) == shown


@pytest.mark.parametrize(
    ("price", "shown"),
    [("0.1", "0.1"), ("0.2500", "0.25"), ("0.1234", "0.1234"), ("0.12345", "0.1234"), ("2", "2"), ("1E+1", "10")],
)
def test_prices_are_written_with_up_to_four_decimals_and_no_trailing_zeros(price, shown):
    assert format_price(Decimal(price)) == shown


def test_a_tenth_of_a_credit_reads_0_1_on_the_chart():
    root = parse(
        a_book(buys=[(100, Decimal("0.1"))], sells=[(100, Decimal("0.1"))], price=Decimal("0.1"), volume_wh=100)
    )
    assert "Cleared: 0.1 kWh at 0.1 credits per kWh" in texts(root)


# --- the last 24 hours of slots --------------------------------------------------------------
def test_a_slot_that_did_not_trade_leaves_a_gap_in_the_price_line():
    root = parse(slots_svg(points=slots(["0.20", "0.25", None, "0.30", "0.10"]), title="Slots", tz=AMSTERDAM))
    lines = root.findall(f".//{SVG}polyline[@class='solar-price']")
    assert len(lines) == 2 and all(len(coordinates(line)) == 2 for line in lines)
    dots = root.findall(f".//{SVG}circle[@class='solar-price-dot']")
    assert [dot.get("data-price") for dot in dots] == ["0.2", "0.25", "0.3", "0.1"]
    assert coordinates(lines[0])[-1][0] < coordinates(lines[1])[0][0]


def test_each_traded_slot_has_a_bar_as_tall_as_its_volume():
    points = slots(["0.20", None, "0.30"], volume=1500)
    root = parse(slots_svg(points=points, title="Slots", tz=AMSTERDAM))
    bars = root.findall(f".//{SVG}rect[@class='solar-volume']")
    assert [bar.get("data-value") for bar in bars] == ["1500", "1500"]
    assert len({bar.get("height") for bar in bars}) == 1


def test_the_slots_chart_has_a_price_scale_on_the_left_and_a_kwh_scale_on_the_right():
    root = parse(some_slots())
    units = {
        t.get("text-anchor"): "".join(t.itertext()) for t in root.iter(f"{SVG}text") if t.get("class") == "solar-unit"
    }
    assert units == {"start": "credits per kWh", "end": "kWh"}


def test_slot_times_are_shown_as_hours_and_minutes_in_the_local_time_zone():
    day = slots(["0.2"] * 96, start=datetime(2026, 6, 3, 22, 0, tzinfo=UTC))  # midnight in Amsterdam
    root = parse(slots_svg(points=day, title="Slots", tz=AMSTERDAM))
    times = [t for t in texts(root) if re.fullmatch(r"\d\d:\d\d", t)]
    assert times == ["00:00", "06:00", "12:00", "18:00", "00:00"]
    assert "96 slots from Thu 4 Jun 00:00 to Fri 5 Jun 00:00." in root.find(f"{SVG}desc").text
    shown_in_utc = parse(slots_svg(points=day, title="Slots", tz=UTC))
    # the same day in UTC runs 22:00 to 22:00: its labels fall two hours later into the chart
    assert [t for t in texts(shown_in_utc) if re.fullmatch(r"\d\d:\d\d", t)] == ["00:00", "06:00", "12:00", "18:00"]


def test_the_time_labels_stay_on_whole_hours_across_a_clock_change():
    night = slots(["0.2"] * 24, start=datetime(2026, 10, 24, 23, 0, tzinfo=UTC))  # clocks go back at 03:00
    times = [t for t in texts(parse(slots_svg(points=night, title="Slots", tz=AMSTERDAM))) if ":" in t]
    assert times and all(t.endswith(":00") for t in times)


def test_the_slots_chart_says_in_words_what_traded():
    desc = parse(some_slots()).find(f"{SVG}desc").text
    assert desc == (
        "4 slots from 14:00 to 15:00. Traded in 3 of them, 3 kWh in total, at 0.2 to 0.3 credits per kWh. "
        "Latest price: 0.3 credits per kWh at 14:45."
    )


def test_no_slots_or_no_trades_say_so_instead_of_drawing_a_blank_chart():
    assert "No slots to show yet." in slots_svg(points=[], title="Slots", tz=AMSTERDAM)
    assert "No trades in these slots yet." in slots_svg(points=slots([None, None]), title="Slots", tz=AMSTERDAM)


def test_a_time_without_a_time_zone_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        slots_svg(points=[(datetime(2026, 6, 3, 12, 0), Decimal("0.2"), 100)], title="Slots", tz=AMSTERDAM)  # noqa: DTZ001


# --- per day -------------------------------------------------------------------------------
def test_each_day_has_two_bars_and_the_legend_names_them():
    root = parse(some_days(labels=("Energy sold", "Energy bought")))
    first = root.findall(f".//{SVG}rect[@class='solar-bar-1']")
    second = root.findall(f".//{SVG}rect[@class='solar-bar-2']")
    assert [bar.get("data-value") for bar in first] == ["1.5", "0"]
    assert [bar.get("data-value") for bar in second] == ["0.25", "4"]
    shown = texts(root)
    assert "Energy sold" in shown and "Energy bought" in shown and "kWh" in shown
    assert "1 Jun" in shown and "2 Jun" in shown


def test_the_days_are_summed_up_in_words():
    desc = parse(some_days()).find(f"{SVG}desc").text
    assert desc == (
        "2 days from Mon 1 Jun to Tue 2 Jun. Sold: 1.5 kWh in total, most on Mon 1 Jun (1.5 kWh). "
        "Bought: 4.25 kWh in total, most on Tue 2 Jun (4 kWh)."
    )


def test_credits_per_day_are_shown_as_the_site_writes_credits():
    days = [(date(2026, 6, 1), Decimal("0.1"), Decimal("2")), (date(2026, 6, 2), Decimal("1.25"), 0)]
    root = parse(daily_bars_svg(days=days, title="Credits", labels=("Earned", "Spent"), unit="credits"))
    assert "credits" in texts(root)
    assert [bar.get("data-value") for bar in root.findall(f".//{SVG}rect[@class='solar-bar-1']")] == ["0.1", "1.25"]
    desc = root.find(f"{SVG}desc").text
    assert "Earned: 1.35 credits in total, most on Tue 2 Jun (1.25 credits)." in desc
    assert "Spent: 2 credits in total" in desc


def test_a_label_given_by_the_page_is_escaped():
    svg = some_days(labels=("<b>Sold</b>", "Bought & used"))
    assert "<b>" not in svg and "&lt;b&gt;Sold&lt;/b&gt;" in svg and "Bought &amp; used" in svg


def test_energy_per_day_must_be_whole_wh():
    with pytest.raises(ValueError, match="whole number of Wh"):
        some_days(days=[(date(2026, 6, 1), Decimal("1.5"), 0)])


def test_no_days_or_only_zeros_say_so_instead_of_drawing_a_blank_chart():
    assert "No days to show yet." in some_days(days=[])
    assert "Nothing to show for these days yet." in some_days(days=[(date(2026, 6, 1), 0, 0)])


def test_a_month_of_days_labels_only_some_of_them_so_they_fit_a_phone():
    month = [(date(2026, 6, 1) + timedelta(days=i), 1000, 500) for i in range(30)]
    shown = [t for t in texts(parse(some_days(days=month))) if t.endswith(" Jun")]
    assert 4 <= len(shown) <= 7


# --- a producer's own readings ---------------------------------------------------------------
def test_exported_and_imported_energy_are_two_series_over_time():
    root = parse(some_readings())
    exported = root.findall(f".//{SVG}polyline[@class='solar-exported']")
    imported = root.findall(f".//{SVG}polyline[@class='solar-imported']")
    assert len(exported) == 1 and len(imported) == 1
    assert exported[0].get("data-readings").split()[1] == f"{(NOON_UTC + timedelta(minutes=15)).isoformat()}=100"
    assert root.find(f".//{SVG}polygon[@class='solar-exported-area']") is not None
    assert {"Exported (sent out)", "Imported (taken in)", "kWh per 15 minutes", "14:00"} <= set(texts(root))


def test_a_missing_reading_leaves_a_gap_rather_than_a_guess():
    points = [(NOON_UTC + timedelta(minutes=15 * i), 200, 0) for i in (0, 1, 2, 5, 6)]
    root = parse(production_svg(points=points, title="My panels", tz=AMSTERDAM))
    assert len(root.findall(f".//{SVG}polyline[@class='solar-exported']")) == 2


def test_the_readings_are_summed_up_in_words():
    desc = parse(some_readings()).find(f"{SVG}desc").text
    assert desc == (
        "8 readings from 14:00 to 16:00: exported 2.8 kWh, imported 0.4 kWh. "
        "Most exported in 15 minutes: 0.7 kWh from 15:45."
    )


def test_no_readings_say_so_instead_of_drawing_a_blank_chart():
    assert "No meter readings yet." in production_svg(points=[], title="My panels", tz=AMSTERDAM)
