"""Fixtures of the federation tests: ``two_instances``, a started pair of real instances
on loopback for the module (tests/federation/instances.py); their logs are added to the
report of every test using them that fails."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.federation.instances import HarnessUnavailable, InstancePair
from tests.federation.instances import two_instances as start_two_instances


@pytest.fixture(scope="module")
def two_instances(tmp_path_factory) -> Iterator[InstancePair]:
    """Two started instances ``(a, b)`` shared by the tests of a module; everything stopped
    and the databases dropped after the module's last test. Tests see each other's data:
    give each test its own community/member names."""
    try:
        with start_two_instances(tmp_path_factory.mktemp("instances")) as pair:
            yield pair
    except HarnessUnavailable as exc:
        pytest.skip(f"can't start two instances on this machine: {exc}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    pair = getattr(item, "funcargs", {}).get("two_instances")
    if report.failed and isinstance(pair, InstancePair):
        for instance in pair:
            report.sections.append((f"instance {instance.name} logs", instance.logs()))
