"""`make audit` (scripts/audit.py around pip-audit): it fails on a known vulnerability,
and on a machine that cannot reach the vulnerability database it says so in one line and
passes, never claiming "no vulnerabilities" for a check that did not happen.

The unreachable cases are real runs of pip-audit over this environment against a port
where nothing listens; the verdicts on vulnerable and clean reports are checked on
pip-audit's JSON report format, since no test may depend on the internet."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from scripts.audit import judge
from tests import reliability

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "audit.py"
FIGURES: Counter = Counter()

try:
    import pip_audit  # noqa: F401  (only whether it is there)
except ImportError:
    pytestmark = pytest.mark.skip(reason="pip-audit is not installed (pip install -e '.[dev]')")


reliability_line = reliability.summary_fixture(
    "audit", lambda: f"offline_runs={FIGURES['offline']} verdicts={FIGURES['verdicts']} false_clean=0"
)


def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def audit(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**os.environ, **env},
        timeout=120,
    )


def test_an_unreachable_osv_database_is_said_in_one_line_and_does_not_fail(tmp_path):
    result = audit("--service", "osv", "--osv-url", f"http://127.0.0.1:{dead_port()}/v1/query", "--timeout", "3")
    FIGURES["offline"] += 1

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines() == [
        "make audit: the vulnerability database (osv) cannot be reached; nothing was checked (network error)."
    ]


def test_an_unreachable_pypi_database_behind_a_dead_proxy_is_said_in_one_line(tmp_path):
    proxy = f"http://127.0.0.1:{dead_port()}"
    result = audit("--timeout", "3", HTTPS_PROXY=proxy, https_proxy=proxy, NO_PROXY="", no_proxy="")
    FIGURES["offline"] += 1

    assert result.returncode == 0, result.stderr
    [line] = result.stdout.strip().splitlines()
    assert "cannot be reached; nothing was checked" in line and "(pypi)" in line


def test_make_audit_runs_the_wrapper():
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", "audit"], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.strip().splitlines()[-1].endswith("python scripts/audit.py")


def test_a_known_vulnerability_fails_the_audit_and_names_the_fix():
    report = {
        "dependencies": [
            {"name": "django", "version": "5.2.0", "vulns": [{"id": "PYSEC-2025-1", "fix_versions": ["5.2.1"]}]},
            {"name": "celery", "version": "5.7.0", "vulns": []},
            {"name": "p2pcommons", "skip_reason": "editable"},
        ]
    }
    code, lines = judge(report, "pypi")
    FIGURES["verdicts"] += 1

    assert code == 1
    assert lines[0] == "make audit: 1 known vulnerabilities in 1 installed packages:"
    assert lines[1:] == ["  django 5.2.0: PYSEC-2025-1 (fixed in 5.2.1)"]


def test_a_clean_report_passes_and_counts_what_was_checked():
    report = {"dependencies": [{"name": "celery", "version": "5.7.0", "vulns": []}, {"name": "x", "skip_reason": "?"}]}
    code, lines = judge(report, "osv")
    FIGURES["verdicts"] += 1

    assert code == 0
    assert lines == ["make audit: 1 packages checked against osv, no known vulnerabilities, 1 not in the database."]


def test_a_database_that_answers_for_no_package_is_not_taken_for_a_clean_bill():
    report = {"dependencies": [{"name": n, "version": "1", "skip_reason": "not found on PyPI"} for n in "abc"]}
    code, lines = judge(report, "pypi")
    FIGURES["verdicts"] += 1

    assert code == 0
    assert lines == [
        "make audit: the vulnerability database (pypi) cannot be reached; nothing was checked "
        "(it answered for none of 3 packages)."
    ]
    assert "no known vulnerabilities" not in lines[0]
