"""The offline ledger verifier's command line and report, where only mutation testing
(`make mutate`, issue 10 item 16) showed them untested. In process, so every change to
the script is seen by the run that mutates it."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from scripts import verify_ledger_export as script

SCRIPT = Path(script.__file__)


def empty_export(**account) -> dict:
    holder = {"id": 1, "currency": "HOUR", "holder": "Ana", "limit": "-10.00", "balance": "0.00", **account}
    return {"format": script.FORMAT, "accounts": [holder], "entries": []}


def test_without_an_argument_the_script_prints_its_usage_on_stderr_and_exits_2(capsys):
    assert script.main(["verify_ledger_export.py"]) == 2
    out = capsys.readouterr()
    assert out.err.strip() == script.USAGE and out.out == ""


def test_a_dash_reads_the_export_from_standard_input(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(empty_export())))
    assert script.main(["verify_ledger_export.py", "-"]) == 0
    assert capsys.readouterr().out.strip() == "OK: 0 entries, chain intact, balances consistent."


def test_a_missing_file_is_named_on_stderr_with_exit_2(capsys, tmp_path):
    missing = tmp_path / "missing.json"
    assert script.main(["verify_ledger_export.py", str(missing)]) == 2
    out = capsys.readouterr()
    assert out.err.strip() == f"Can't read {missing}: No such file or directory" and out.out == ""


def test_json_that_is_not_an_object_is_refused_on_stderr_with_exit_2(capsys, tmp_path):
    path = tmp_path / "list.json"
    path.write_text("[1, 2]", encoding="utf-8")
    assert script.main(["verify_ledger_export.py", str(path)]) == 2
    out = capsys.readouterr()
    assert "expected an object with format, accounts and entries" in out.err and out.out == ""


def test_a_non_ascii_export_file_is_read_as_utf8(capsys, tmp_path):
    path = tmp_path / "ledger.json"
    path.write_text(json.dumps(empty_export(holder="Zoë Müller"), ensure_ascii=False), encoding="utf-8")
    assert script.main(["verify_ledger_export.py", str(path)]) == 0


def test_an_account_below_its_limit_is_the_reported_problem():
    report = script.verify_export(empty_export(limit="1.00"))
    assert not report.ok
    assert str(report) == "BROKEN at account 1 is below its limit 1.00"
    assert report.balance_problems == ["account 1 is below its limit 1.00"]


def test_an_amount_that_is_not_a_number_is_named():
    report = script.verify_export(empty_export(balance="lots"))
    assert not report.ok and "not an amount: 'lots'" in report.problem


def test_the_report_as_sent_by_the_api_carries_every_field():
    report = script.verify_export(empty_export(limit="1.00"))
    assert report.as_dict() == {
        "ok": False,
        "checked": 0,
        "broken_seq": None,
        "broken_entry_id": None,
        "problem": "account 1 is below its limit 1.00",
        "balance_problems": ["account 1 is below its limit 1.00"],
    }


def test_the_script_reads_utf8_exports_even_where_the_locale_is_ascii(tmp_path):
    path = tmp_path / "ledger.json"
    path.write_text(json.dumps(empty_export(holder="Zoë Müller"), ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(path)], capture_output=True, text=True, encoding="utf-8", env=env, check=False
    )
    assert (result.returncode, result.stdout.strip()) == (0, "OK: 0 entries, chain intact, balances consistent.")
