"""The one view kit and the one pager (issue 12): filters survive paging, "next" stays
on this site, a refusal reads as a sentence."""

import pytest
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.test import RequestFactory

from p2pcommons.errors import RuleViolation
from p2pcommons.viewkit import paginate, refusal_text, safe_next


def test_the_pager_keeps_the_search_and_filters_of_the_page():
    request = RequestFactory().get("/tools/", {"q": "drill", "category": "garden", "page": "2"})
    page = paginate(request, list(range(60)), per_page=20)
    html = render_to_string("_pagination.html", {"page": page}, request=request)
    assert "q=drill" in html and "category=garden" in html
    assert "page=1" in html and "page=3" in html and "Page 2 of 3" in html


def test_a_page_out_of_range_gives_the_last_page_not_an_error():
    request = RequestFactory().get("/", {"page": "999"})
    assert paginate(request, list(range(45)), per_page=20).number == 3
    assert paginate(RequestFactory().get("/", {"page": "x"}), [1, 2], per_page=20).number == 1


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/tools/loans/", "/tools/loans/"),
        ("https://evil.example/", "/home/"),
        ("//evil.example/x", "/home/"),
        ("mine", "/home/"),
    ],
)
def test_next_stays_on_this_site(target, expected):
    request = RequestFactory().post("/x/", {"next": target})
    assert safe_next(request, "/home/") == expected


def test_a_refusal_reads_as_one_sentence():
    assert refusal_text(RuleViolation("It is booked then.", code="overlap")) == "It is booked then."
    assert refusal_text(ValidationError({"hours": ["Between 0 and 12 hours."]})) == "Between 0 and 12 hours."


def test_a_page_with_two_pagers_moves_each_by_its_own_parameter():
    request = RequestFactory().get("/skills/mine/", {"requests_page": "2", "q": "bike"})
    offers = paginate(request, list(range(50)), per_page=20, param="offers_page")
    context = {"page": offers, "param": "offers_page", "label": "Pages of my offers"}
    html = render_to_string("_pagination.html", context, request=request)
    assert "offers_page=2" in html and "requests_page=2" in html and "q=bike" in html
    assert 'aria-label="Pages of my offers"' in html and "Page 1 of 3" in html


def _request_with_messages():
    from django.contrib.messages.storage.fallback import FallbackStorage

    request = RequestFactory().post("/x/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def test_attempt_returns_the_result_or_shows_the_refusal_as_a_message():
    from django.contrib.messages import get_messages

    from p2pcommons.viewkit import REFUSED, attempt

    request = _request_with_messages()
    assert attempt(request, lambda: 42) == 42

    def refuse():
        raise RuleViolation("It is booked then.", code="conflict")

    assert attempt(request, refuse) is REFUSED
    assert [str(m) for m in get_messages(request)] == ["It is booked then."]


def test_attempt_puts_a_refusal_on_the_form_when_there_is_one():
    from django import forms

    from p2pcommons.forms import AccessibleErrorsMixin
    from p2pcommons.viewkit import REFUSED, attempt

    class HoursForm(AccessibleErrorsMixin, forms.Form):
        hours = forms.DecimalField()

    form = HoursForm({"hours": "3"})
    assert form.is_valid()

    def refuse():
        raise ValidationError({"hours": ["Between 0 and 2 hours."]})

    assert attempt(_request_with_messages(), refuse, form=form) is REFUSED
    assert form.errors["hours"] == ["Between 0 and 2 hours."]
