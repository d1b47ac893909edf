"""`make audit`: pip-audit over the installed environment, honest about what it checked.

    python scripts/audit.py [--service pypi|osv] [--osv-url URL] [--timeout SECONDS]

Exit 1 when an installed package has a known vulnerability (each one is listed with the
versions that fix it). Exit 0, with one line saying so, when the vulnerability database
cannot be reached: an offline machine or a CI runner without internet is not broken, but
it must not read as "no vulnerabilities" either. A database that answers for no package
at all (a mirror that only serves downloads) counts as unreachable too.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

UNREACHABLE = "make audit: the vulnerability database ({service}) cannot be reached; nothing was checked ({why})."
# How requests and pip-audit say the network is not there.
NETWORK_ERRORS = (
    "ConnectionError",
    "ProxyError",
    "ConnectTimeout",
    "ReadTimeout",
    "Max retries exceeded",
    "Name or service not known",
    "Temporary failure in name resolution",
    "ServiceError",
)


def run_pip_audit(service: str, timeout: int, osv_url: str | None = None) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--local",
        "--skip-editable",  # the project itself, installed with -e
        "--progress-spinner",
        "off",
        "--format",
        "json",
        "--desc",
        "off",
        "--vulnerability-service",
        service,
        "--timeout",
        str(timeout),
        *(["--osv-url", osv_url] if osv_url else []),
    ]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def judge(report: dict, service: str) -> tuple[int, list[str]]:
    """The exit code and the lines to print for pip-audit's JSON report."""
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if d.get("skip_reason")]
    audited = [d for d in dependencies if not d.get("skip_reason")]
    if dependencies and not audited:
        return 0, [UNREACHABLE.format(service=service, why=f"it answered for none of {len(skipped)} packages")]
    vulnerable = [d for d in audited if d.get("vulns")]
    lines = []
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            lines.append(f"  {dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixes})")
    if vulnerable:
        count = sum(len(d["vulns"]) for d in vulnerable)
        return 1, [f"make audit: {count} known vulnerabilities in {len(vulnerable)} installed packages:", *lines]
    note = f", {len(skipped)} not in the database" if skipped else ""
    return 0, [f"make audit: {len(audited)} packages checked against {service}, no known vulnerabilities{note}."]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--service", choices=["pypi", "osv"], default="pypi")
    parser.add_argument("--osv-url", help="another OSV server (with --service osv)")
    parser.add_argument("--timeout", type=int, default=15, help="seconds per request")
    args = parser.parse_args(argv)
    result = run_pip_audit(args.service, args.timeout, args.osv_url)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        report = None
    if report is None:
        errors = result.stderr or ""
        if any(marker in errors for marker in NETWORK_ERRORS):
            print(UNREACHABLE.format(service=args.service, why="network error"))
            return 0
        print("make audit: pip-audit failed:", file=sys.stderr)
        print(errors.strip() or f"exit status {result.returncode}", file=sys.stderr)
        return result.returncode or 1
    code, lines = judge(report, args.service)
    print("\n".join(lines), file=sys.stderr if code else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main())
