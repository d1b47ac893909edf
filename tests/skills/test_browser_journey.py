"""A whole skill swap in a real browser: Max asks for help with his bike, Olive (who
offered bike repair nearby) sees the match and its reasons, proposes a session, Max
agrees, both confirm the two hours, the hours move in the ledger, and both review each
other until their trust scores show.

Transactional test: the live server commits for real, so matching runs on commit (Celery
is eager in tests) exactly as it would behind a worker. The data migrations' taxonomy is
flushed between transactional tests, so the skill is made here with the factories.
"""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.ledger.models import Account
from apps.reputation.models import Review, TrustScore
from apps.skills import services
from apps.skills.factories import SkillCategoryFactory, SkillFactory
from apps.skills.models import Match, Request, Session
from tests.skills.conftest import place
from tests.test_browser import SIGN_OUT, log_in, page  # noqa: F401 - page is a fixture, by its name

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOME = (52.37, 4.89)


def sign_out(tab: Page) -> None:
    tab.get_by_role("button", name=SIGN_OUT).click()


def go_to_skills(tab: Page) -> None:
    tab.get_by_role("navigation", name="Main").get_by_role("link", name="Skills").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Skill swap")


def trust_label(user) -> str:
    trust = TrustScore.objects.get(user=user)
    assert trust.rating_count == 1
    return f"{trust.rounded_score} out of 5 from 1 review"


def test_a_neighbor_gets_help_fixing_a_bike_for_two_hours_and_both_review(
    page: Page,  # noqa: F811 - the fixture imported above, by its name
    community,
    owner,
    member,
):
    learner, helper = member, owner  # Max Member asks; Olive Owner helps
    place(learner, *HOME)
    place(helper, HOME[0] + 0.8 / 111.195, HOME[1])  # 0.8 km north of Max
    bike_repair = SkillFactory(category=SkillCategoryFactory(slug="repair", name="Repair"), slug="bike-repair")
    assert bike_repair.name == "Bike repair"
    services.offer_create(
        member=helper,
        community=community,
        title="I fix bikes",
        skills=[bike_repair],
        windows=[(5, time(9), time(12))],  # Saturday mornings
    )

    # Max asks for help through the request form.
    first_day = timezone.localdate() + timedelta(days=1)
    log_in(page, email=learner.email)
    go_to_skills(page)
    page.get_by_role("link", name="Ask for help").first.click()
    page.get_by_role("textbox", name="Title").fill("My bike's gears slip")
    page.get_by_label("Description").fill("The chain jumps on the two smallest gears.")
    page.get_by_label("Skills").select_option(label="Bike repair")
    page.get_by_label("Tags").fill("gears")
    page.get_by_label("Wanted from").fill(f"{first_day:%Y-%m-%d}")
    page.get_by_label("Wanted until").fill(f"{first_day + timedelta(days=6):%Y-%m-%d}")
    page.get_by_label("About how many hours").fill("2")
    page.get_by_role("button", name="Ask for help").click()
    expect(page.get_by_text("Your request “My bike's gears slip” is posted.")).to_be_visible()
    wanted = Request.objects.get()
    assert (wanted.member, wanted.status, list(wanted.skills.all())) == (learner, "open", [bike_repair])
    match = Match.objects.get(request=wanted)  # matched on commit, by the (eager) task
    page.get_by_role("link", name="Matches for you").click()
    expect(page.get_by_text("Olive Owner can help with")).to_be_visible()
    sign_out(page)

    # Olive sees the match with its reasons and proposes a two-hour session.
    log_in(page, email=helper.email)
    go_to_skills(page)
    page.get_by_role("link", name="Matches for you").click()
    card = page.locator("article.match")
    expect(card.get_by_text("You offered help")).to_be_visible()
    expect(card.get_by_text("Max Member needs help")).to_be_visible()
    expect(card.get_by_text("same skill, 0.8 km, can help Saturday morning")).to_be_visible()
    percent = round(float(match.score) * 100)
    expect(card.get_by_role("progressbar", name=f"Match: {percent}%")).to_have_attribute("value", str(percent))
    card.get_by_role("button", name="Propose a session").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Propose a session")
    expect(page.get_by_test_id("learner-balance")).to_have_text("0 hours")
    expect(page.get_by_test_id("learner-limit")).to_have_text("-10 hours")
    starts = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=2)
    expect(page.get_by_label("Title")).to_have_value("My bike's gears slip")
    page.get_by_label("Starts at").fill(f"{starts:%Y-%m-%dT%H:%M}")
    page.get_by_label("Planned hours").fill("2")
    page.get_by_label("Place").fill("Olive's garage, side door")
    page.get_by_role("button", name="Propose the session").click()
    expect(page.get_by_text("Session proposed to Max Member. It is on once they agree.")).to_be_visible()
    session = Session.objects.get()
    assert (session.helper, session.status, session.starts_at, session.request) == (helper, "proposed", starts, wanted)
    sign_out(page)

    # Max agrees from his sessions page.
    log_in(page, email=learner.email)
    go_to_skills(page)
    page.get_by_role("link", name="Sessions").click()
    upcoming = page.get_by_role("region", name="Upcoming")
    expect(upcoming.get_by_text("Waiting for your answer")).to_be_visible()
    upcoming.get_by_role("link", name="My bike's gears slip").click()
    page.get_by_role("button", name="Agree to the session").click()
    expect(page.get_by_text(re.compile(r"^Booked: “My bike's gears slip” on"))).to_be_visible()
    session.refresh_from_db()
    assert session.status == "scheduled"

    # The hours can be confirmed only after the session has taken place, and the services
    # compare with the real clock of the live server: we can't wait two days, so the agreed
    # session is moved into the past, as if the time had come and gone.
    Session.objects.filter(pk=session.pk).update(starts_at=timezone.now() - timedelta(hours=3))
    page.reload()
    expect(page.get_by_label("Hours it took")).to_have_value("2.00")
    page.get_by_role("button", name="Confirm the hours").click()
    expect(page.get_by_text("You confirmed 2 hours. They move once Olive Owner confirms too.")).to_be_visible()
    sign_out(page)

    # Olive confirms too: the two hours move from Max to Olive; she reviews Max.
    log_in(page, email=helper.email)
    go_to_skills(page)
    page.get_by_role("link", name="Sessions").click()
    to_confirm = page.get_by_role("region", name="To confirm")
    expect(to_confirm.get_by_text("Confirm your hours")).to_be_visible()
    to_confirm.get_by_role("link", name="My bike's gears slip").click()
    page.get_by_label("Hours it took").fill("2")
    page.get_by_role("button", name="Confirm the hours").click()
    expect(page.get_by_text("Confirmed: 2 hours moved from Max Member to Olive Owner.")).to_be_visible()
    page.get_by_role("link", name="My time balance and history").last.click()
    expect(page.get_by_test_id("balance-sunnyside-HOUR")).to_have_text("2 hours")
    expect(page.get_by_text("from Max Member")).to_be_visible()
    page.go_back()
    page.get_by_role("link", name="Review Max Member").click()
    page.get_by_label("5 stars: excellent").check()
    page.get_by_label("Comment (optional)").fill("Explained every step, lovely to learn from.")
    page.get_by_role("button", name="Submit review").click()
    expect(page.get_by_text("Thank you: your review is saved.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Your review stays hidden until Max Member has reviewed too"))).to_be_visible()
    sign_out(page)

    # Max sees -2 hours and reviews Olive: both reviews are revealed.
    log_in(page, email=learner.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My balance").click()
    expect(page.get_by_test_id("balance-sunnyside-HOUR")).to_have_text("-2 hours")
    expect(page.get_by_text("to Olive Owner")).to_be_visible()
    assert Account.objects.get(owner=learner, currency="HOUR").balance == -2
    go_to_skills(page)
    page.get_by_role("link", name="Sessions").click()
    expect(page.get_by_test_id("hours-sunnyside")).to_have_text("-2 hours")
    page.get_by_role("region", name="Past and cancelled").get_by_role("link", name="My bike's gears slip").click()
    page.get_by_role("link", name="Review Olive Owner").click()
    page.get_by_label("4 stars: good").check()
    page.get_by_role("button", name="Submit review").click()
    expect(page.get_by_text("Your review is visible to everyone since")).to_be_visible()
    expect(page.get_by_text("Explained every step, lovely to learn from.")).to_be_visible()
    assert Review.objects.filter(revealed_at__isnull=False).count() == 2

    helper_label, learner_label = trust_label(helper), trust_label(learner)
    page.goto(f"/people/{helper.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Olive Owner")
    expect(page.get_by_role("img", name=helper_label).first).to_be_visible()
    page.goto(f"/people/{learner.pk}/")
    expect(page.get_by_role("img", name=learner_label).first).to_be_visible()
    go_to_skills(page)
    expect(page.get_by_role("img", name=helper_label)).to_be_visible()  # on Olive's offer card
