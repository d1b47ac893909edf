"""The co-design API's enums, each a named schema component (see ``apps/solar/api_fields.py``
for why: ``status`` and ``kind`` have several value sets across the API, and a generated
client should get one type per set, the same wherever it appears)."""

from __future__ import annotations

from apps.solar.api_fields import named_choice

from .models import Challenge, Proposal, Task, Volunteer


def phase_choice(**kwargs):
    return named_choice("CodesignPhaseEnum", Challenge.Phase, **kwargs)


def method_choice(**kwargs):
    return named_choice("CodesignMethodEnum", Challenge.Method, **kwargs)


def proposal_status_choice(**kwargs):
    return named_choice("CodesignProposalStatusEnum", Proposal.Status, **kwargs)


def task_status_choice(**kwargs):
    return named_choice("CodesignTaskStatusEnum", Task.Status, **kwargs)


def volunteer_status_choice(**kwargs):
    return named_choice("CodesignVolunteerStatusEnum", Volunteer.Status, **kwargs)
