"""The README's newcomer path: `make run` serves on another port with `PORT=...`, and a
clone carries its own design notes. Checked without starting any server."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def procfile_commands() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))


def make_dry_run(*args: str, env: dict[str, str] | None = None) -> list[str]:
    """The commands `make -n run ...` would run (nothing is run)."""
    environment = {k: v for k, v in os.environ.items() if k not in ("PORT", "SITE_URL", "MAKEFLAGS", "MFLAGS")}
    environment.update(env or {})
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.splitlines()


def honcho_line(lines: list[str]) -> list[str]:
    (line,) = [line for line in lines if "honcho start" in line]
    return shlex.split(line)


def test_the_procfile_serves_the_web_process_on_PORT_and_8000_without_it():
    web = procfile_commands()["web"]
    assert "runserver 127.0.0.1:${PORT:-8000}" in web
    expand = ["sh", "-c", f"echo {web}"]
    assert "127.0.0.1:8123" in subprocess.run(expand, env={"PORT": "8123"}, capture_output=True, text=True).stdout
    assert "127.0.0.1:8000" in subprocess.run(expand, env={}, capture_output=True, text=True).stdout


@needs_make
@pytest.mark.parametrize("how", ["argument", "environment"])
def test_make_run_passes_the_port_to_honcho_and_the_email_links(how):
    lines = make_dry_run("PORT=8123") if how == "argument" else make_dry_run(env={"PORT": "8123"})
    words = honcho_line(lines)
    assert words[words.index("-p") + 1] == "8123"
    # Links in emails follow the port unless SITE_URL is set.
    assert "SITE_URL=${SITE_URL:-http://127.0.0.1:8123}" in words


@needs_make
def test_make_run_serves_on_8000_by_default():
    words = honcho_line(make_dry_run())
    assert words[words.index("-p") + 1] == "8000"
    assert "SITE_URL=${SITE_URL:-http://127.0.0.1:8000}" in words


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell")
def test_honcho_gives_the_web_process_the_port_of_make_run(tmp_path):
    """honcho sets PORT for each process from -p (web first): the Procfile's web line then
    serves there. The web command is echoed instead of run."""
    web = procfile_commands()["web"].strip()
    (tmp_path / "Procfile").write_text(f"web: echo {web}\n")
    honcho = ROOT / ".venv" / "bin" / "honcho"
    if not honcho.exists():
        pytest.skip("honcho is not installed in .venv")
    environment = {k: v for k, v in os.environ.items() if k != "PORT"}
    done = subprocess.run(
        [str(honcho), "start", "-f", "Procfile", "-p", "8123"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert re.search(r"runserver 127\.0\.0\.1:8123 --noreload", done.stdout), done.stdout + done.stderr


def test_the_design_notes_and_the_style_guide_live_in_the_project():
    design = (ROOT / "docs" / "DESIGN.md").read_text()
    style = (ROOT / "docs" / "STYLE.md").read_text()
    assert "## How to add an exchange" in design
    for exchange in ("apps/tools", "apps/skills", "apps/solar", "apps/codesign"):
        assert exchange in design, f"docs/DESIGN.md does not describe {exchange}"
    assert "not built yet" not in design
    assert "services.py" in style and "selectors.py" in style
