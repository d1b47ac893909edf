"""The generated API client, once per test session (see ``tests/api/generated.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .generated import GeneratedClient, forget_client, generate_client


@pytest.fixture(scope="session")
def generated_client(tmp_path_factory) -> Iterator[GeneratedClient]:
    generated = generate_client(tmp_path_factory.mktemp("generated-client"))
    yield generated
    forget_client(generated)
