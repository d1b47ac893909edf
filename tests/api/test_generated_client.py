"""A mobile team generates its client from our OpenAPI schema: the generator must accept
the schema without a warning, and every module it writes must import.

With one schema offered as JSON, form and multipart, openapi-python-client wrote
operation modules that failed on import (``NameError: name 'Unset' is not defined``)
for every operation with a required body.
"""

from __future__ import annotations

import importlib


def test_the_generator_reports_no_warning(generated_client):
    assert generated_client.returncode == 0, generated_client.output
    assert "warning" not in generated_client.output.lower(), generated_client.output


def test_every_generated_module_imports(generated_client):
    failures = {}
    names = generated_client.module_names()
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # every failure is listed, not only the first
            failures[name] = repr(exc)

    assert len(names) > 100, "the package should hold an operation module per endpoint and a model per component"
    assert failures == {}


def test_the_errors_are_named_types_of_the_generated_client(generated_client):
    models = importlib.import_module("p2p_client.models")

    assert {"FieldErrors", "Problem", "ReservationsCreateConflict", "ReservationsApproveConflict"} <= set(dir(models))
    assert not any(name.endswith("Response400") for name in dir(models)), "400s share FieldErrors"
    assert "ModelError" not in dir(models)
