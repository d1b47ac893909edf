"""The two-instance harness itself (tests/federation/instances.py): two real instances on
loopback with their own databases, web servers, workers and recording proxies, and
nothing left behind when they stop."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.federation.instances import (
    BASE_DIR,
    Databases,
    InstanceError,
    InstancePair,
    RecordingProxy,
    group_alive,
    two_instances,
    wait_for,
)

JOIN = """
import json
from apps.peers.factories import CommunityFactory, UserFactory
from apps.peers.services import community_join
community = CommunityFactory(slug={slug!r}, name={name!r})
user = UserFactory(email={email!r}, profile__display_name="Wendy Welcome")
user.set_password("a long enough password 42")
user.save()
membership = community_join(community=community, user=user)
print(json.dumps({{"membership": membership.pk, "community": community.pk}}))
"""


def test_each_instance_has_a_database_of_its_own(two_instances: InstancePair) -> None:
    a, b = two_instances
    print(f"\ntwo instances started in {a.start_timings['total']:.1f} s: {a.start_timings}")
    assert a.database_url != b.database_url
    written = a.run_python(
        "import json\n"
        "from apps.peers.factories import CommunityFactory\n"
        "print(json.dumps(CommunityFactory(slug='only-in-a', name='Only in A').pk))"
    )
    assert isinstance(written, int)
    find = (
        "import json\nfrom apps.peers.models import Community\n"
        "print(json.dumps(Community.objects.filter(slug='only-in-a').count()))"
    )
    assert a.run_python(find) == 1
    assert b.run_python(find) == 0


SETTINGS = """
import json
from django.conf import settings
print(json.dumps({
    "site_url": settings.SITE_URL, "debug": settings.DEBUG, "secret": settings.SECRET_KEY,
    "log_secret": settings.LEDGER_LOG_SECRET, "broker": settings.CELERY_BROKER_URL,
    "broker_folder": settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"],
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "federation_http": settings.FEDERATION_ALLOW_HTTP, "private": settings.FEDERATION_ALLOW_PRIVATE_ADDRESSES,
    "witness_http": settings.LEDGER_WITNESS_ALLOW_HTTP, "media": str(settings.MEDIA_ROOT),
    "installed": "tests.exchanges" in settings.INSTALLED_APPS,
}))
"""


def test_each_instance_runs_the_instance_settings_with_secrets_folders_and_address_of_its_own(
    two_instances: InstancePair,
) -> None:
    a, b = two_instances
    seen_a, seen_b = a.run_python(SETTINGS), b.run_python(SETTINGS)
    assert (seen_a["site_url"], seen_b["site_url"]) == (a.base_url, b.base_url)
    for instance, seen in ((a, seen_a), (b, seen_b)):
        assert seen["debug"] is False and seen["eager"] is False and seen["installed"] is False
        assert seen["federation_http"] and seen["private"] and seen["witness_http"]
        assert seen["broker"] == "filesystem://"
        assert seen["broker_folder"].startswith(str(instance.dir)) and seen["media"].startswith(str(instance.dir))
    assert seen_a["secret"] != seen_b["secret"] and seen_a["log_secret"] != seen_b["log_secret"]
    # manage.py runs in the instance too.
    said = a.manage("shell", "-c", "from django.conf import settings; print(settings.SITE_URL)")
    assert said.splitlines()[-1] == a.base_url


def test_the_instance_settings_refuse_to_start_outside_the_harness() -> None:
    env = {key: value for key, value in os.environ.items() if key != "P2P_INSTANCE_DIR"}
    result = subprocess.run(
        [sys.executable, "-c", "import p2pcommons.settings.instance"],
        cwd=BASE_DIR, env={**env, "SITE_URL": "http://127.0.0.1:8000"}, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode != 0
    assert "for the federation tests only" in result.stderr


def test_each_instance_answers_healthz_through_its_proxy_which_records_the_request(
    two_instances: InstancePair,
) -> None:
    a, b = two_instances
    a.clear_recorded()
    b.clear_recorded()
    assert a.base_url != b.base_url
    assert a.port != a.server_port

    assert a.api("GET", "/healthz/") == (200, {"status": "ok"})
    assert b.api("GET", f"{b.base_url}/healthz/") == (200, {"status": "ok"})

    [seen_by_a] = a.recorded()
    assert (seen_by_a.method, seen_by_a.url, seen_by_a.status) == ("GET", f"{a.base_url}/healthz/", 200)
    assert seen_by_a.headers["host"] == f"127.0.0.1:{a.port}"  # the Host header reached the server unchanged
    assert [(r.method, r.path, r.status) for r in b.recorded()] == [("GET", "/healthz/", 200)]


def test_pages_and_static_files_are_served_with_debug_off(two_instances: InstancePair) -> None:
    a, _ = two_instances
    status, page = a.api("GET", "/accounts/login/", headers={"Accept": "text/html"})
    assert status == 200, page
    assert "<form" in page
    status, icon = a.api("GET", "/static/favicon.ico")
    assert status == 200 and icon


def test_a_request_one_instance_makes_to_the_other_passes_through_the_others_proxy(
    two_instances: InstancePair,
) -> None:
    a, b = two_instances
    b.clear_recorded()
    body = b'{"hello": "neighbour"}'
    answer = a.run_python(
        "import json, urllib.request\n"
        f"request = urllib.request.Request({b.base_url + '/healthz/?from=a'!r}, data={body!r}, method='POST',\n"
        "    headers={'Content-Type': 'application/activity+json', 'Signature-Input': 'sig1=()'})\n"
        "try:\n"
        "    status = urllib.request.urlopen(request, timeout=10).status\n"
        "except urllib.error.HTTPError as refused:\n"
        "    status = refused.code\n"
        "print(json.dumps(status))"
    )
    [seen] = b.recorded()
    assert seen.status == answer
    assert (seen.method, seen.url, seen.body) == ("POST", f"{b.base_url}/healthz/?from=a", body)
    assert seen.headers["content-type"] == "application/activity+json"
    assert seen.headers["signature-input"] == "sig1=()"
    assert seen.json() == {"hello": "neighbour"}


def test_run_python_reports_the_codes_failure_and_recovers_from_a_call_that_hangs(
    two_instances: InstancePair,
) -> None:
    a, _ = two_instances
    with pytest.raises(InstanceError, match="ValueError: no such neighbour"):
        a.run_python("raise ValueError('no such neighbour')")
    with pytest.raises(InstanceError, match="not JSON"):
        a.run_python("print('hello')")
    assert a.run_python("x = 1") is None
    with pytest.raises(InstanceError, match="took over 1 s"):
        a.run_python("import time\ntime.sleep(30)", timeout=1)
    assert a.run_python("print(6 * 7)") == 42  # the hanging call's answer never reaches this one


def test_a_member_logs_in_on_one_instance_and_the_token_means_nothing_on_the_other(
    two_instances: InstancePair,
) -> None:
    a, b = two_instances
    a.run_python(JOIN.format(slug="login-a", name="Login A", email="lena@example.org"))
    token = a.login("lena@example.org", "a long enough password 42")

    status, me = a.api("GET", "/api/v1/me/", token=token)
    assert status == 200, me
    assert me["email"] == "lena@example.org"
    assert b.api("GET", "/api/v1/me/", token=token)[0] == 401


def test_a_task_enqueued_in_one_instance_runs_on_its_own_worker_only(two_instances: InstancePair) -> None:
    a, b = two_instances
    started = time.monotonic()
    ids = a.run_python(JOIN.format(slug="welcome-a", name="Welcome Gardens", email="wendy@example.org"))

    welcomed = (
        "import json\nfrom apps.peers.models import Membership\n"
        f"print(json.dumps(Membership.objects.filter(pk={ids['membership']}, welcomed_at__isnull=False).exists()))"
    )
    assert wait_for(lambda: a.run_python(welcomed), timeout=30, interval=0.2), a.logs()

    def welcome_emails() -> list:
        return [m for m in a.emails() if m["To"] == "wendy@example.org"]

    assert wait_for(welcome_emails, timeout=10, interval=0.1), a.logs()
    [welcome] = welcome_emails()
    assert welcome["Subject"] == "Welcome to Welcome Gardens"
    assert "Task apps.peers.tasks.membership_send_welcome[" in a.worker.log()
    assert time.monotonic() - started < 30
    assert "Task apps.peers.tasks.membership_send_welcome[" not in b.worker.log()
    assert not [m for m in b.emails() if m["To"] == "wendy@example.org"]


def test_the_pair_starts_quickly_and_stopping_it_leaves_no_process_port_or_database_behind(tmp_path) -> None:
    started = time.monotonic()
    with two_instances(tmp_path) as (a, b):
        took = time.monotonic() - started
        pids = a.pids() + b.pids()
        assert len(pids) == 6
        assert all(group_alive(pid) for pid in pids)
        ports = [a.port, a.server_port, b.port, b.server_port]
        databases = [a.database_url, b.database_url]
        assert a.api("GET", "/healthz/")[0] == 200
        b.stop()  # one instance stopped on its own: the other runs on; the pair's teardown stops it again
        assert not [pid for pid in b.pids() if group_alive(pid)]
        assert all(group_alive(pid) for pid in a.pids())
        assert a.api("GET", "/healthz/")[0] == 200
    print(f"\ntwo instances started in {took:.1f} s: {a.start_timings}")
    assert took < 60

    assert not [pid for pid in pids if group_alive(pid)]
    for port in ports:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/healthz/")
            raise AssertionError(f"something still answers on port {port}")
        except ConnectionRefusedError:
            pass
        finally:
            connection.close()
    checker = Databases(workdir=tmp_path)
    if checker.postgres:
        assert not [url for url in databases if checker.exists(url)]


def test_an_instance_process_dies_with_a_test_process_killed_before_its_teardown(tmp_path) -> None:
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from tests.federation.instances import Process\n"
        f"process = Process('sleeper', ['sleep', '120'], {{}}, Path({str(tmp_path / 'sleeper.log')!r}))\n"
        "print(process.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=BASE_DIR, stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        assert group_alive(child)
        parent.kill()  # SIGKILL: no at-exit hook, no teardown
        parent.wait(timeout=10)
        assert wait_for(lambda: not group_alive(child), timeout=10), f"process {child} outlived the test process"
    finally:
        parent.kill()
        parent.wait(timeout=10)
        parent.stdout.close()


def test_the_proxy_forwards_a_request_unchanged_and_records_it_with_the_answers_status(tmp_path) -> None:
    seen: list[tuple[str, str, dict[str, str], bytes]] = []

    class Upstream(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            answer = b'{"accepted": true}'
            self.send_response(202)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args) -> None:
            pass

    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    proxy = RecordingProxy(log_path=tmp_path / "proxy.log")
    proxy.upstream_port = upstream.server_address[1]
    try:
        body = b'{"type": "Follow"}'
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        connection.putrequest("POST", "/actors/oak/inbox?x=1", skip_host=True, skip_accept_encoding=True)
        sent = {
            "Host": f"127.0.0.1:{proxy.port}",
            "Signature": "sig1=:abc:",
            "Transfer-Encoding": "chunked",
            "Content-Type": "application/activity+json",
        }
        for name, value in sent.items():
            connection.putheader(name, value)
        connection.endheaders()
        connection.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))  # a chunked body: forwarded as plain bytes
        response = connection.getresponse()
        assert (response.status, response.read()) == (202, b'{"accepted": true}')
        connection.close()

        [(method, path, headers, forwarded)] = seen
        assert (method, path, forwarded) == ("POST", "/actors/oak/inbox?x=1", body)
        assert headers["host"] == f"127.0.0.1:{proxy.port}"
        assert headers["signature"] == "sig1=:abc:" and headers["content-length"] == str(len(body))
        [record] = proxy.recorded()
        assert (record.method, record.url, record.body, record.status) == (
            "POST", f"{proxy.base_url}/actors/oak/inbox?x=1", body, 202,
        )  # fmt: skip
        assert record.headers["signature"] == "sig1=:abc:" and record.response_body == b'{"accepted": true}'
    finally:
        proxy.stop()
        upstream.shutdown()
        upstream.server_close()
