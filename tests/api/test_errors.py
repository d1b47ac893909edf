"""Error bodies have the shapes the schema names: ``FieldErrors``, ``Problem`` and a
rule's refusal with its data; and bodies are JSON, only."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from rest_framework.exceptions import ValidationError

from apps.notifications.services import notify
from p2pcommons.api.exceptions import exception_handler
from p2pcommons.api.schema import conflicts
from p2pcommons.errors import RuleViolation

pytestmark = pytest.mark.django_db


def test_a_refusal_carries_its_data_beside_the_message_with_times_in_local_time_and_offset():
    free = datetime(2030, 5, 1, 7, 30, tzinfo=UTC)

    response = exception_handler(
        RuleViolation("That window is taken.", code="overlap", data={"next_free_start": free}), {}
    )

    assert response.status_code == 409
    assert response.data == {
        "detail": "That window is taken.",
        "code": "overlap",
        "next_free_start": timezone.localtime(free).isoformat(),
    }
    assert re.search(r"[+-][0-9]{2}:[0-9]{2}$", response.data["next_free_start"]), "a time with its offset"


def test_a_refusal_without_data_is_detail_and_code_only():
    response = exception_handler(RuleViolation("No.", code="forbidden"), {})

    assert response.data == {"detail": "No.", "code": "forbidden"}


@pytest.mark.parametrize("error", [ValidationError("Say which learner."), DjangoValidationError("Say which learner.")])
def test_an_error_of_no_single_field_is_a_non_field_error(error):
    response = exception_handler(error, {})

    assert (response.status_code, response.data) == (400, {"non_field_errors": ["Say which learner."]})


def test_a_conflict_declares_its_codes_as_an_enum_and_its_data_typed():
    declared = conflicts("overlap", "fee_changed", data={"next_free_start": OpenApiTypes.DATETIME})

    properties = declared.response["properties"]
    assert properties["code"]["enum"] == ["fee_changed", "overlap"]
    assert properties["next_free_start"] == {"type": "string", "format": "date-time"}
    assert declared.response["required"] == ["detail", "code"]


def test_a_form_encoded_body_is_refused_as_unsupported(client, member, community):
    client.force_login(member)

    response = client.post(
        "/api/v1/ledger/transfers/",
        {"community": community.pk, "currency": "HOUR", "to": member.pk, "amount": "1"},
        HTTP_IDEMPOTENCY_KEY="k",
    )

    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["detail"]


def test_a_page_past_the_last_is_a_404_with_a_message(api_as, member):
    notify(recipients=[member], kind="ledger.received", text="Olive sent you 1 hour")

    response = api_as(member).get("/api/v1/notifications/", {"page": 2})

    assert (response.status_code, response.json()) == (404, {"detail": "Invalid page."})
