"""Long lists in an offer or request are refused before anything is looked up: 2,000
skill ids, tags or weekly times cost a few queries and give a field error."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.skills.models import MAX_SKILLS, MAX_TAGS, MAX_WINDOWS, Offer, Request, Tag
from tests.querycount import count_queries

pytestmark = pytest.mark.django_db

FEW_QUERIES = 8


def offer_body(community, skill, **overrides) -> dict:
    body = {"community": community.pk, "title": "I fix bikes", "skills": [skill.pk], "travel_km": "3.0"}
    body.update(overrides)
    return body


def request_body(community, skill, **overrides) -> dict:
    day = timezone.localdate() + timedelta(days=2)
    body = {
        "community": community.pk,
        "title": "My gears slip",
        "skills": [skill.pk],
        "wanted_from": f"{day}",
        "wanted_until": f"{day}",
    }
    body.update(overrides)
    return body


def post(client, endpoint: str, body: dict):
    holder = {}
    queries, _ = count_queries(lambda: holder.setdefault("r", client.post(endpoint, body, format="json")))
    return holder["r"], queries


@pytest.mark.parametrize(("endpoint", "body"), [("offers", offer_body), ("requests", request_body)])
def test_2000_skill_ids_are_refused_in_a_few_queries_with_a_field_error(
    api_as, community, member, bike_repair, endpoint, body
):
    client = api_as(member)
    response, queries = post(
        client, f"/api/v1/skills/{endpoint}/", body(community, bike_repair, skills=list(range(1, 2001)))
    )
    assert response.status_code == 400
    assert response.json()["skills"] == [f"At most {MAX_SKILLS}."]
    assert queries <= FEW_QUERIES
    _, eleven = post(client, f"/api/v1/skills/{endpoint}/", body(community, bike_repair, skills=list(range(1, 12))))
    assert queries == eleven  # the count does not grow with the list
    assert not Offer.objects.exists() and not Request.objects.exists()


def test_ten_skill_ids_are_still_accepted(api_as, community, member, repair):
    from apps.skills.factories import SkillFactory

    skills = [SkillFactory(category=repair, slug=f"fix-{n}") for n in range(MAX_SKILLS)]
    response = api_as(member).post(
        "/api/v1/skills/offers/", offer_body(community, skills[0], skills=[s.pk for s in skills]), format="json"
    )
    assert response.status_code == 201
    assert Offer.objects.get().skills.count() == MAX_SKILLS


@pytest.mark.parametrize(("endpoint", "body"), [("offers", offer_body), ("requests", request_body)])
def test_2000_tags_are_refused_before_any_tag_is_made(api_as, community, member, bike_repair, endpoint, body):
    tags = [f"tag{n}" for n in range(2000)]
    response, queries = post(api_as(member), f"/api/v1/skills/{endpoint}/", body(community, bike_repair, tags=tags))
    assert response.status_code == 400
    assert response.json()["tags"] == [f"At most {MAX_TAGS}."]
    assert queries <= FEW_QUERIES
    assert not Tag.objects.exists()


def test_2000_weekly_times_are_refused_in_a_few_queries(api_as, community, member, bike_repair):
    windows = [{"weekday": n % 7, "start": "09:00", "end": "10:00"} for n in range(2000)]
    response, queries = post(
        api_as(member), "/api/v1/skills/offers/", offer_body(community, bike_repair, windows=windows)
    )
    assert response.status_code == 400
    assert "windows" in response.json()
    assert str(MAX_WINDOWS) in str(response.json()["windows"])
    assert queries <= FEW_QUERIES
    assert not Offer.objects.exists()


def test_the_services_refuse_long_lists_too(community, member, bike_repair):
    from django.core.exceptions import ValidationError

    from apps.skills import services

    day = timezone.localdate() + timedelta(days=2)
    common = {"member": member, "community": community, "title": "Gears", "wanted_from": day, "wanted_until": day}
    with pytest.raises(ValidationError) as skills_error:
        services.request_create(**common, skills=[bike_repair] * (MAX_SKILLS + 1))
    assert skills_error.value.message_dict == {"skills": [f"At most {MAX_SKILLS} skills."]}
    with pytest.raises(ValidationError) as tags_error:
        services.request_create(**common, skills=[bike_repair], tags=(f"t{n}" for n in range(10**9)))
    assert tags_error.value.message_dict == {"tags": [f"At most {MAX_TAGS} tags."]}
    with pytest.raises(ValidationError) as windows_error:
        services.offer_create(
            member=member,
            community=community,
            title="Bikes",
            skills=[bike_repair],
            windows=[(0, timezone.now().time().replace(hour=9), timezone.now().time().replace(hour=10))] * 22,
        )
    assert windows_error.value.message_dict == {"windows": [f"At most {MAX_WINDOWS} time ranges."]}
    assert not Request.objects.exists() and not Offer.objects.exists() and not Tag.objects.exists()


def test_exactly_ten_tags_are_made_in_two_queries(community, member, bike_repair):
    from apps.skills import services

    day = timezone.localdate() + timedelta(days=2)
    request = services.request_create(
        member=member,
        community=community,
        title="Gears",
        skills=[bike_repair],
        wanted_from=day,
        wanted_until=day,
        tags=[f"Tag {n}" for n in range(MAX_TAGS)] + ["tag-0"],  # the repeat is the same tag
    )
    assert sorted(request.tags.values_list("name", flat=True)) == sorted(f"tag-{n}" for n in range(MAX_TAGS))


def test_the_offer_form_refuses_a_long_skills_list_in_a_few_queries(web_as, community, member, bike_repair):
    client = web_as(member)
    url = reverse("skills:offer-create")
    form = {
        "community": community.pk,
        "title": "I fix bikes",
        "tags": "",
        "travel_km": "3",
        "windows-TOTAL_FORMS": "0",
        "windows-INITIAL_FORMS": "0",
    }
    client.post(url, form)  # the first request of a session reads a few more rows
    holder = {}
    few, _ = count_queries(lambda: client.post(url, {**form, "skills": list(range(1, 12))}))
    many, _ = count_queries(lambda: holder.setdefault("r", client.post(url, {**form, "skills": list(range(1, 151))})))
    assert holder["r"].status_code == 200
    assert f"Choose at most {MAX_SKILLS} skills." in holder["r"].content.decode()
    assert many == few
    assert not Offer.objects.exists()


def test_the_offer_form_refuses_more_weekly_times_than_allowed(web_as, community, member, bike_repair):
    form = {
        "community": community.pk,
        "title": "I fix bikes",
        "skills": [bike_repair.pk],
        "tags": "",
        "travel_km": "3",
        "windows-TOTAL_FORMS": "100000",
        "windows-INITIAL_FORMS": "0",
    }
    response = web_as(member).post(reverse("skills:offer-create"), form)
    assert response.status_code == 200
    assert f"at most {MAX_WINDOWS} form" in response.content.decode()
    assert not Offer.objects.exists()
