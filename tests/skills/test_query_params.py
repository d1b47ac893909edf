"""Numbers in skill-swap links are read with the one safe parser (p2pcommons.params):
a bad number is a "not found" or a field error, never a server error."""

import pytest
from django.urls import reverse

from apps.skills.factories import OfferFactory, RequestFactory
from apps.skills.models import Session

pytestmark = pytest.mark.django_db

NEW_SESSION = reverse("skills:session-create")
NOT_IDS = ["%C2%B2", "-1", "1e3", "1234567890123456789", "bike", "%D9%A3"]  # "²", ..., Arabic-Indic 3


@pytest.fixture
def offer(community, owner, bike_repair):
    return OfferFactory(member=owner, community=community, title="I fix bikes", skills=[bike_repair])


@pytest.mark.parametrize("value", NOT_IDS)
@pytest.mark.parametrize("name", ["offer", "request", "match"])
def test_a_session_link_with_a_number_that_is_no_id_is_not_found(web_as, member, offer, name, value):
    response = web_as(member).get(f"{NEW_SESSION}?{name}={value}")
    assert response.status_code == 404
    assert not Session.objects.exists()


def test_a_session_link_with_a_real_offer_still_opens_the_form(web_as, member, offer):
    response = web_as(member).get(f"{NEW_SESSION}?offer={offer.pk}")
    assert response.status_code == 200
    assert "Olive Owner" in response.content.decode()


@pytest.mark.parametrize("value", NOT_IDS)
def test_a_page_number_that_is_no_number_shows_the_first_page(web_as, community, member, owner, bike_repair, value):
    OfferFactory(member=owner, community=community, title="I fix bikes", skills=[bike_repair])
    response = web_as(member).get(f"{reverse('skills:directory')}?page={value}")
    assert response.status_code == 200
    assert "I fix bikes" in response.content.decode()


@pytest.mark.parametrize("value", NOT_IDS)
@pytest.mark.parametrize("endpoint", ["offers", "requests"])
def test_an_api_community_filter_that_is_no_id_is_a_field_error(api_as, member, offer, endpoint, value):
    response = api_as(member).get(f"/api/v1/skills/{endpoint}/?community={value}")
    assert response.status_code == 400
    assert response.json()["community"] == ["Give a community by its number."]


def test_an_api_community_filter_with_an_id_still_filters(api_as, community, member, offer):
    RequestFactory(member=member, community=community, title="Gears slip")
    response = api_as(member).get(f"/api/v1/skills/offers/?community={community.pk}")
    assert [o["title"] for o in response.json()["results"]] == ["I fix bikes"]
