"""Download my data on the page (with its progress, polled by htmx, and a plain Refresh
link) and through the API (202 and the same job while one is open; the job's shape)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.privacy.export import export_build, export_request
from apps.privacy.models import ExportJob

PAGE = "/me/data/"
API = "/api/v1/me/export/"


@pytest.fixture(autouse=True)
def export_root(settings, tmp_path):
    settings.EXPORT_ROOT = tmp_path / "exports"


def test_the_pages_need_a_signed_in_member(client, member):
    assert reverse("privacy:page") == PAGE
    for url in (PAGE, reverse("privacy:status")):
        assert client.get(url).status_code == 302
    assert client.post(reverse("privacy:prepare")).status_code == 302
    assert not ExportJob.objects.exists()


def test_the_page_explains_the_download_and_offers_to_prepare_it(member, web_as):
    page = web_as(member).get(PAGE).content.decode()
    assert "Download my data" in page and "ledger history" in page and "48 hours" in page
    assert f'action="{reverse("privacy:prepare")}"' in page and "Prepare my download" in page
    assert "<progress" not in page


def test_preparing_queues_one_job_and_a_second_click_says_it_is_already_being_prepared(member, web_as):
    client = web_as(member)
    response = client.post(reverse("privacy:prepare"), follow=True)
    job = ExportJob.objects.get(user=member)
    assert job.status == ExportJob.Status.QUEUED
    assert "We are preparing your download" in response.content.decode()
    again = client.post(reverse("privacy:prepare"), follow=True).content.decode()
    assert "already being prepared" in again
    assert ExportJob.objects.filter(user=member).count() == 1


def test_the_page_shows_progress_polled_every_two_seconds_with_a_plain_refresh_link(member, web_as):
    job = export_request(user=member)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, progress=40, step="tools")
    client = web_as(member)
    for url in (PAGE, reverse("privacy:status")):
        page = client.get(url).content.decode()
        assert '<progress id="export-progress" value="40" max="100">' in page
        assert "40% done" in page and "Your tools and loans" in page and "Being prepared" in page
        assert f'hx-get="{reverse("privacy:status")}" hx-trigger="every 2s"' in page
        assert f'<a href="{PAGE}">Refresh</a>' in page
        assert "Prepare" not in page  # no second request while one runs


def test_when_ready_the_page_offers_the_download_and_says_until_when(member, web_as):
    job = export_request(user=member)
    export_build(job.pk)
    job.refresh_from_db()
    page = web_as(member).get(reverse("privacy:status")).content.decode()
    assert reverse("privacy:download", args=[job.token]) in page
    assert "The link works until" in page and "hx-trigger" not in page
    assert "Prepare a new download" in page


def test_failed_and_expired_jobs_say_so_and_offer_a_new_one(member, web_as):
    job = export_request(user=member)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.FAILED, error="It broke.")
    page = web_as(member).get(PAGE).content.decode()
    assert "Preparing your download failed." in page and "It broke." in page and "Prepare a new download" in page
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.EXPIRED)
    page = web_as(member).get(PAGE).content.decode()
    assert "has expired" in page and "Prepare a new download" in page


# --- API ----------------------------------------------------------------------------------
JOB_FIELDS = {"id", "status", "progress", "step", "created_at", "expires_at", "download_url", "error"}


def test_the_api_answers_404_before_the_first_request(member, api_as):
    response = api_as(member).get(API)
    assert response.status_code == 404 and response["Content-Type"] == "application/json"


def test_the_api_needs_a_signed_in_member(api_client, db):
    assert api_client.get(API).status_code == 401
    assert api_client.post(API).status_code == 401


def test_post_answers_202_with_the_job_and_the_same_job_while_it_is_open(member, api_as):
    api = api_as(member)
    first = api.post(API)
    assert first.status_code == 202
    body = first.json()
    assert set(body) == JOB_FIELDS
    assert body["status"] == "queued" and body["download_url"] is None and body["expires_at"] is None
    second = api.post(API)
    assert second.status_code == 202 and second.json()["id"] == body["id"]
    assert api.get(API).json()["id"] == body["id"]


def test_get_shows_the_ready_job_with_its_download_link(member, api_as):
    job = export_request(user=member)
    export_build(job.pk)
    body = api_as(member).get(API).json()
    assert body["status"] == "ready" and body["progress"] == 100 and body["step"] == "Done"
    assert body["download_url"] == f"http://testserver{API}{job.pk}/download/"
    assert body["expires_at"] is not None


def test_a_member_sees_only_their_own_job(member, owner, api_as):
    export_request(user=member)
    assert api_as(owner).get(API).status_code == 404


def test_the_api_download_serves_the_zip_to_its_owner_only_until_it_expires(member, owner, api_as):
    import time_machine

    job = export_request(user=member)
    export_build(job.pk)
    job.refresh_from_db()
    url = f"{API}{job.pk}/download/"
    assert api_as(member).get(API).json()["download_url"].endswith(url)
    response = api_as(member).get(url, HTTP_ACCEPT="application/octet-stream")
    assert response.status_code == 200 and response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].endswith('.zip"')
    assert b"".join(response.streaming_content)[:2] == b"PK"
    assert api_as(owner).get(url).status_code == 404
    with time_machine.travel(job.expires_at):
        gone = api_as(member).get(url)
    assert gone.status_code == 410 and gone.json()["code"] == "export_gone"
