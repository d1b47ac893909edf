"""Reviews and reputation in Dutch (Accept-Language: nl)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from apps.reputation import services
from p2pcommons.errors import RuleViolation

from .conftest import EXCHANGE_TYPE

pytestmark = pytest.mark.django_db

NL = {"HTTP_ACCEPT_LANGUAGE": "nl"}


def form_url(exchange) -> str:
    return reverse("reputation:review-create", args=[EXCHANGE_TYPE, exchange.pk])


def test_the_review_form_is_in_dutch(web_as, owner, exchange):
    html = web_as(owner).get(form_url(exchange), **NL).content.decode()
    assert "Beoordeling: Lent a ladder" in html
    assert "Beoordeling versturen" in html and "5 sterren: uitstekend" in html
    assert "Submit review" not in html


def test_a_missing_rating_is_a_dutch_form_error(web_as, owner, exchange):
    html = web_as(owner).post(form_url(exchange), {"comment": "Fijn"}, **NL).content.decode()
    assert "Kies hoeveel sterren je geeft." in html


def test_the_profile_shows_reputation_in_dutch(web_as, owner, member, exchange, review):
    review(owner, exchange, rating=5)
    review(member, exchange, rating=4)
    html = web_as(owner).get(reverse("peers:profile", args=[member.pk]), **NL).content.decode()
    assert "Reputatie" in html and "Beoordelingen" in html
    assert "No reviews yet" not in html


def test_a_refusal_is_in_dutch(owner, exchange, review):
    review(owner, exchange)
    with translation.override("nl"), pytest.raises(RuleViolation) as refused:
        services.review_check(author=owner, exchange=exchange)
    assert "al beoordeeld" in str(refused.value)
