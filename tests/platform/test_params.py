"""The one parser for numbers in query strings (issue 10, item 13): characters such as
"²" pass ``str.isdigit()`` but not ``int()``, and ids past 2**63 overflow SQLite."""

import pytest

from p2pcommons.params import parse_id, query_id, query_int


@pytest.mark.parametrize("raw", ["²", "١٢", "-1", "1e3", "1.0", " 7", "7 ", "", "x", "1" * 19])
def test_anything_but_one_to_eighteen_ascii_digits_is_not_an_id(raw):
    assert parse_id(raw) is None


def test_ascii_digits_are_an_id():
    assert (parse_id("42"), parse_id("9" * 18), query_id({"offer": "7"}, "offer"), query_id({}, "offer")) == (
        42,
        10**18 - 1,
        7,
        None,
    )


@pytest.mark.parametrize(("raw", "expected"), [("3", 3), ("-2", 0), ("99", 8), ("²", 0), ("1e3", 0), ("", 0)])
def test_a_small_integer_is_clamped_and_falls_back_to_its_default(raw, expected):
    assert query_int({"week": raw}, "week", default=0, low=0, high=8) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("week", ["²", "99999999999999999999", "-3", "abc"])
def test_the_tool_calendar_shows_the_first_weeks_for_a_week_it_cannot_read(client, week):
    from apps.tools.factories import ToolFactory
    from apps.tools.models import Tool

    tool: Tool = ToolFactory()
    client.force_login(tool.owner)
    response = client.get(tool.get_absolute_url(), {"week": week})
    assert response.status_code == 200
    assert "Earlier week" not in response.content.decode()
