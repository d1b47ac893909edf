import pytest

from apps.peers.models import Profile

pytestmark = pytest.mark.django_db
URL = "/api/v1/me/"


def test_it_requires_authentication(api_client):
    response = api_client.get(URL)
    assert response.status_code == 401
    assert "detail" in response.json()


def test_it_returns_my_profile_with_private_fields(api_as, member, community):
    data = api_as(member).get(URL).json()
    assert data["email"] == "member@example.org"
    assert data["display_name"] == "Max Member"
    assert "exact_address" in data and "phone" in data
    assert data["communities"] == [
        {"id": community.pk, "slug": "sunnyside", "name": "Sunnyside Commons", "role": "member", "status": "active"}
    ]


def test_it_updates_my_profile_and_rounds_my_location(api_as, member):
    response = api_as(member).patch(
        URL, {"display_name": "Maxine", "latitude": "52.361234", "longitude": "4.901234"}, format="json"
    )
    assert response.status_code == 200, response.json()
    profile = Profile.objects.get(user=member)
    assert profile.display_name == "Maxine"
    assert response.json()["approx_latitude"] == str(profile.approx_latitude)
    assert "latitude" not in response.json()  # the exact point is never echoed


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"display_name": ""}, "display_name"),
        ({"display_name": "x" * 81}, "display_name"),
        ({"latitude": "91", "longitude": "4"}, "latitude"),
        ({"latitude": "52"}, "longitude"),
        ({"longitude": "not-a-number", "latitude": "1"}, "longitude"),
        ({"bio": "b" * 2001}, "bio"),
    ],
)
def test_bad_input_gets_a_400_with_field_errors_and_changes_nothing(api_as, member, payload, field):
    response = api_as(member).patch(URL, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Profile.objects.get(user=member).display_name == "Max Member"


def test_another_member_cannot_edit_my_profile_through_the_api(api_as, member, owner):
    # /me/ is always the caller's own profile: owner's PATCH changes owner, never member.
    api_as(owner).patch(URL, {"display_name": "Hacked"}, format="json")
    assert Profile.objects.get(user=member).display_name == "Max Member"
    assert Profile.objects.get(user=owner).display_name == "Hacked"


def test_it_accepts_the_app_session_token_from_the_login_endpoint(api_client, member):
    login = api_client.post(
        "/_allauth/app/v1/auth/login",
        {"email": "member@example.org", "password": "correct-horse-battery-staple"},
        format="json",
    )
    assert login.status_code == 200, login.content
    token = login.json()["meta"]["session_token"]
    fresh = type(api_client)()
    response = fresh.get(URL, HTTP_X_SESSION_TOKEN=token)
    assert response.status_code == 200
    assert response.json()["email"] == "member@example.org"


def test_a_wrong_password_gets_no_token(api_client, member):
    login = api_client.post(
        "/_allauth/app/v1/auth/login", {"email": "member@example.org", "password": "wrong"}, format="json"
    )
    assert login.status_code == 400
    assert "session_token" not in login.json().get("meta", {})
