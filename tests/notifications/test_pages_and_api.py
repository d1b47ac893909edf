import pytest
from django.urls import reverse

from apps.notifications.models import Notification, Preference
from tests.querycount import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db


def test_the_bell_shows_my_unread_count(web_as, notify_member, member):
    notify_member()
    notify_member()
    html = web_as(member).get("/").content.decode()
    assert 'aria-label="Notifications: 2 unread"' in html


def test_the_list_shows_my_notifications_and_an_empty_state(web_as, notify_member, member, owner):
    assert "No notifications yet." in web_as(owner).get(reverse("notifications:list")).content.decode()
    notify_member(text="Your ladder came back")
    assert "Your ladder came back" in web_as(member).get(reverse("notifications:list")).content.decode()
    assert "Your ladder came back" not in web_as(owner).get(reverse("notifications:list")).content.decode()


def test_marking_read_and_all_read_in_the_browser(web_as, notify_member, member):
    first = notify_member()[0]
    notify_member()
    client = web_as(member)
    client.post(reverse("notifications:read", args=[first.pk]))
    assert Notification.objects.get(pk=first.pk).read_at is not None
    response = client.post(reverse("notifications:read-all"), follow=True)
    assert "Marked 1 notification(s) as read." in response.content.decode()
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_opening_a_notification_marks_it_read_and_follows_its_link(web_as, notify_member, member):
    note = notify_member(url="/ledger/")[0]
    response = web_as(member).post(reverse("notifications:read", args=[note.pk]), {"go": "1"})
    assert response["Location"] == "/ledger/"


def test_nobody_marks_someone_elses_notification(web_as, api_as, notify_member, owner):
    note = notify_member()[0]
    assert web_as(owner).post(reverse("notifications:read", args=[note.pk])).status_code == 404
    assert api_as(owner).post(f"/api/v1/notifications/{note.pk}/read/").status_code == 404
    assert Notification.objects.get(pk=note.pk).read_at is None


def test_the_preferences_page_saves_a_choice_per_kind(web_as, member):
    client = web_as(member)
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert "A neighbor sent you credits" in page
    response = client.post(
        reverse("notifications:preferences"),
        {"ledger.received": "digest", "test.now": "off", "test.digest": "digest"},
        follow=True,
    )
    assert "Your notification preferences are saved." in response.content.decode()
    assert Preference.objects.get(user=member, kind="ledger.received").delivery == "digest"


def test_a_bad_preference_shows_the_form_again(web_as, member):
    response = web_as(member).post(reverse("notifications:preferences"), {"ledger.received": "weekly"})
    assert response.status_code == 200 and "Select a valid choice." in response.content.decode()
    assert not Preference.objects.exists()


def test_the_api_lists_my_notifications_and_marks_them_read(api_as, notify_member, member):
    note = notify_member()[0]
    client = api_as(member)
    listed = client.get("/api/v1/notifications/", {"unread": "true"}).json()
    assert [n["id"] for n in listed["results"]] == [note.pk]
    assert client.post(f"/api/v1/notifications/{note.pk}/read/").json()["is_read"] is True
    assert client.get("/api/v1/notifications/", {"unread": "true"}).json()["count"] == 0
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked": 0}


def test_the_api_sets_preferences_and_refuses_bad_ones(api_as, member):
    client = api_as(member)
    ok = client.put(
        "/api/v1/notifications/preferences/", [{"kind": "ledger.received", "delivery": "off"}], format="json"
    )
    assert ok.status_code == 200
    assert {r["kind"]: r["delivery"] for r in ok.json()}["ledger.received"] == "off"
    bad = client.put("/api/v1/notifications/preferences/", [{"kind": "nope", "delivery": "off"}], format="json")
    assert bad.status_code == 400 and "kind" in bad.json()
    worse = client.put(
        "/api/v1/notifications/preferences/", [{"kind": "ledger.received", "delivery": "x"}], format="json"
    )
    assert worse.status_code == 400
    assert worse.json() == {"preferences": ['item 1: delivery: "x" is not a valid choice.']}


def test_the_notification_list_query_counts_do_not_grow(web_as, api_as, notify_member, member, owner):
    def add(n):
        for _ in range(n):
            notify_member(actor=owner)

    web = web_as(member)
    # session, user, count(*), page with actors' profiles, unread count for the bell.
    assert_queries_do_not_grow(lambda: web.get(reverse("notifications:list")), add)
    api = api_as(member)
    # count(*), one page with actors' profiles.
    assert assert_queries_do_not_grow(lambda: api.get("/api/v1/notifications/"), add, small=31, large=60) == 2


def test_notifications_about_hidden_content_disappear_for_others(api_as, web_as, member, owner, organizer, community):
    from apps.moderation.services import content_hide
    from apps.notifications.services import notify
    from apps.reputation.factories import ReviewFactory
    from tests.exchanges.factories import ExchangeFactory

    exchange = ExchangeFactory(community=community, provider=owner, receiver=member)
    review = ReviewFactory(exchange=exchange, author=owner)
    notify(recipients=[member], kind="test.now", text="Olive reviewed you", target=review)
    assert api_as(member).get("/api/v1/notifications/").json()["count"] == 1
    content_hide(target=review, actor=organizer, reason="Insulting")
    assert api_as(member).get("/api/v1/notifications/").json()["count"] == 0
    assert 'aria-label="Notifications"' in web_as(member).get("/").content.decode()  # no unread badge


def test_a_preferences_put_with_more_rows_than_kinds_is_refused_before_any_query(api_as, member):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.notifications.kinds import KINDS

    rows = [{"kind": "ledger.received", "delivery": "off"}] * 4000
    client = api_as(member)
    with CaptureQueriesContext(connection) as queries:
        response = client.put("/api/v1/notifications/preferences/", rows, format="json")
    assert response.status_code == 400
    assert response.json() == {"preferences": [f"Send at most {len(KINDS)} preferences at once, one per kind."]}
    assert len(queries) == 0  # force_authenticate: not even the user is loaded
    assert not Preference.objects.filter(user=member).exists()


def test_the_preferences_page_groups_kinds_by_exchange(web_as, member):
    page = web_as(member).get(reverse("notifications:preferences")).content.decode()
    tools, skills = page.index("<strong>Tool sharing</strong>"), page.index("<strong>Skill swap</strong>")
    assert page.index("Someone asks to borrow your tool") > tools
    assert page.index("A good match for your skill offer or request") > skills
    assert page.count("<fieldset>") == page.count("<legend>") >= 5


def test_organizer_kinds_are_offered_to_organizers_only(web_as, api_as, member, organizer):
    organizer_only = "Something was reported in a community you organize"
    assert organizer_only not in web_as(member).get(reverse("notifications:preferences")).content.decode()
    assert organizer_only in web_as(organizer).get(reverse("notifications:preferences")).content.decode()
    kinds = {row["kind"] for row in api_as(member).get("/api/v1/notifications/preferences/").json()}
    assert "moderation.flagged" not in kinds and "peers.join_requested" not in kinds and "tools.requested" in kinds
