"""Issue 19's Done-when: a log that shows two histories is caught by its witnesses.

The log here is a real HTTP server (http.server in a thread) that lies: it signs, with its one
real key, a different checkpoint for each witness (told apart by User-Agent), rewrites its
history, replays old checkpoints, redirects, floods or drips. The witnesses are two communities
of this site, run with the real witness code against the real database."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.ledger import checkpoint as notes
from apps.ledger import log, merkle, witness
from apps.ledger.models import LogAlarm, WitnessedLog, WitnessView
from apps.notifications.models import Notification
from apps.peers.factories import CommunityFactory, OrganizerMembershipFactory

pytestmark = pytest.mark.django_db
ORIGIN = "evil.example/ledger/shady"


def leaves(prefix: str, size: int) -> list[bytes]:
    return [f"{prefix}-{i}".encode() for i in range(size)]


@dataclass
class Tree:
    """One history the log tells: its leaves, and the checkpoint signed over them."""

    items: list[bytes]
    note: str = ""


@dataclass
class FakeLog:
    """What the lying log serves, per requester: ``views`` maps a User-Agent to a Tree
    (``"*"`` for anyone else); ``raw`` replaces the answer to a path entirely."""

    signer: notes.Signer
    views: dict[str, Tree] = field(default_factory=dict)
    raw: dict[str, tuple[int, dict, bytes]] = field(default_factory=dict)
    drip: bool = False
    posts: list[tuple[str, str]] = field(default_factory=list)
    gets: list[str] = field(default_factory=list)

    def show(self, agent: str, items: list[bytes]) -> Tree:
        tree = Tree(items)
        tree.note = notes.sign_checkpoint(notes.Checkpoint(ORIGIN, len(items), merkle.root(items)), [self.signer])
        self.views[agent] = tree
        return tree

    def tree_for(self, agent: str) -> Tree:
        return self.views.get(agent) or self.views["*"]


def _handler(fake: FakeLog) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if fake.drip:
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.2)
            else:
                self.wfile.write(body)

        def do_GET(self) -> None:
            fake.gets.append(self.path)
            agent = self.headers.get("User-Agent", "")
            tail = self.path.removeprefix("/log")
            if tail in fake.raw:
                status, headers, body = fake.raw[tail]
                return self._send(status, body, headers)
            tree = fake.tree_for(agent)
            if tail == "/checkpoint":
                return self._send(200, tree.note.encode())
            if tail.startswith("/consistency/"):
                first, second = (int(part) for part in tail.split("/")[2:4])
                proof = merkle.consistency_proof(first, second, tree.items)
                return self._send(200, "".join(notes._b64encode(h) + "\n" for h in proof).encode())
            return self._send(404, b"no")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            fake.posts.append((self.headers.get("User-Agent", ""), self.rfile.read(length).decode()))
            self._send(200, b"ok")

    return Handler


@pytest.fixture
def fake_log(settings) -> Iterator[tuple[FakeLog, str]]:
    settings.LEDGER_WITNESS_ALLOW_HTTP = True
    skey, _ = notes.generate_key(ORIGIN)
    fake = FakeLog(notes.Signer.from_skey(skey))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}/log"
    server.shutdown()
    server.server_close()


@pytest.fixture
def two_witnesses(db):
    one = CommunityFactory(slug="elmwood", name="Elmwood")
    two = CommunityFactory(slug="ashford", name="Ashford")
    organizers = [OrganizerMembershipFactory(community=c).user for c in (one, two)]
    return (one, two), organizers


def agent(community) -> str:
    return f"p2pcommons-witness/{log.witness_name(community)}"


def watch(community, fake: FakeLog, url: str) -> WitnessedLog:
    return WitnessedLog.objects.create(witness=community, origin=ORIGIN, log_vkey=fake.signer.verifier.vkey, url=url)


def test_a_log_showing_two_histories_to_two_witnesses_is_caught(fake_log, two_witnesses):
    fake, url = fake_log
    (one, two), organizers = two_witnesses
    a = fake.show(agent(one), leaves("a", 5))
    b = fake.show(agent(two), leaves("b", 5))  # same size, other root, validly signed too
    first, second = watch(one, fake, url), watch(two, fake, url)

    assert witness.witness_once(first) == witness.Outcome.COSIGNED
    assert witness.witness_once(second) == witness.Outcome.ALARM

    alarm = LogAlarm.objects.get()
    assert (alarm.kind, alarm.size, alarm.witnessed_log) == (LogAlarm.Kind.SPLIT_VIEW, 5, second)
    assert alarm.new_note == b.note and notes.split_note(alarm.seen_note)[0] == notes.split_note(a.note)[0]
    # Both are valid signatures of the one log key: the evidence holds up for anyone.
    for evidence in (alarm.seen_note, alarm.new_note):
        notes.open_checkpoint(evidence, [fake.signer.verifier], origin=ORIGIN)
    told = Notification.objects.filter(kind="ledger.log_alarm")
    assert set(told.values_list("recipient", flat=True)) == {u.pk for u in organizers}
    assert all("two different versions of its history" in n.text for n in told)
    # Only A was co-signed; nothing of B was signed or sent.
    assert [note for _, note in fake.posts] == [WitnessView.objects.get(witnessed_log=first).note]
    assert not WitnessView.objects.filter(witnessed_log=second).exists()

    # Asking again raises no second alarm and tells nobody twice.
    assert witness.witness_once(second) == witness.Outcome.ALARM
    assert LogAlarm.objects.count() == 1 and told.count() == 2


def test_one_witness_shown_another_root_for_a_size_it_cosigned_raises_the_alarm(fake_log, two_witnesses):
    fake, url = fake_log
    (one, _), organizers = two_witnesses
    fake.show("*", leaves("a", 4))
    watched = watch(one, fake, url)
    assert witness.witness_once(watched) == witness.Outcome.COSIGNED

    fake.show("*", leaves("z", 4))

    assert witness.witness_once(watched) == witness.Outcome.ALARM
    assert LogAlarm.objects.get().kind == LogAlarm.Kind.SPLIT_VIEW
    assert len(fake.posts) == 1
    assert Notification.objects.filter(kind="ledger.log_alarm", recipient=organizers[0]).count() == 1


def test_a_rewritten_history_does_not_extend_and_raises_the_alarm(fake_log, two_witnesses):
    fake, url = fake_log
    (one, _), _ = two_witnesses
    fake.show("*", leaves("a", 4))
    watched = watch(one, fake, url)
    assert witness.witness_once(watched) == witness.Outcome.COSIGNED
    # Later, bigger, validly signed, with a valid proof of its own tree: but entry 2 was changed.
    rewritten = leaves("a", 7)
    rewritten[2] = b"a-2 (edited)"
    fake.show("*", rewritten)

    assert witness.witness_once(watched) == witness.Outcome.ALARM

    alarm = LogAlarm.objects.get()
    assert (alarm.kind, alarm.size) == (LogAlarm.Kind.NOT_EXTENDING, 7)
    assert "/log/consistency/4/7" in fake.gets
    assert len(fake.posts) == 1 and WitnessView.objects.count() == 1
    watched.refresh_from_db()
    assert watched.last_size == 4


def test_an_honest_growth_is_cosigned_and_an_old_checkpoint_replayed_is_ignored(fake_log, two_witnesses):
    fake, url = fake_log
    (one, _), _ = two_witnesses
    history = leaves("a", 9)
    old = fake.show("*", history[:3])
    watched = watch(one, fake, url)
    assert witness.witness_once(watched) == witness.Outcome.COSIGNED
    fake.show("*", history)
    assert witness.witness_once(watched) == witness.Outcome.COSIGNED

    fake.views["*"] = old  # a replay of the first checkpoint

    assert witness.witness_once(watched) == witness.Outcome.OLD
    assert len(fake.posts) == 2 and not LogAlarm.objects.exists()
    assert sorted(WitnessView.objects.values_list("size", flat=True)) == [3, 9]


def test_a_second_witness_checks_its_view_against_the_first_ones_through_the_log(fake_log, two_witnesses):
    """Witness 1 co-signed size 4 of history A; witness 2 is shown size 6 of history B: the log
    can't prove B extends A, so witness 2 raises the alarm (gossip on this site)."""
    fake, url = fake_log
    (one, two), organizers = two_witnesses
    fake.show(agent(one), leaves("a", 4))
    fake.show(agent(two), leaves("b", 6))
    first, second = watch(one, fake, url), watch(two, fake, url)
    assert witness.witness_once(first) == witness.Outcome.COSIGNED

    assert witness.witness_once(second) == witness.Outcome.ALARM

    assert LogAlarm.objects.get().kind == LogAlarm.Kind.NOT_EXTENDING
    told = Notification.objects.filter(kind="ledger.log_alarm")
    assert set(told.values_list("recipient", flat=True)) == {u.pk for u in organizers}


def test_a_witness_with_a_wrong_key_for_the_log_cant_make_another_raise_a_false_alarm(fake_log, two_witnesses):
    fake, url = fake_log
    (one, two), _ = two_witnesses
    fake.show("*", leaves("a", 4))
    # Ashford's organizer set up "the same log" with a key of their own, and a server of their own.
    skey, vkey = notes.generate_key(ORIGIN)
    forged = notes.sign_checkpoint(notes.Checkpoint(ORIGIN, 4, merkle.root(leaves("x", 4))), [skey])
    liar = WitnessedLog.objects.create(witness=two, origin=ORIGIN, log_vkey=vkey, url=url)
    WitnessView.objects.create(witnessed_log=liar, size=4, root=merkle.root(leaves("x", 4)), note=forged)

    assert witness.witness_once(watch(one, fake, url)) == witness.Outcome.COSIGNED
    assert not LogAlarm.objects.exists()


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ((302, {"Location": "http://127.0.0.1:1/internal"}, b""), "redirect"),
        ((200, {}, b"x" * (64 * 1024 + 10)), "too large"),
        ((200, {}, b"not a note at all"), "refused"),
        ((500, {}, b"secret internal stack trace"), "answered 500"),
    ],
)
def test_a_hostile_log_answer_is_an_error_never_an_alarm_nor_echoed(fake_log, two_witnesses, answer, error):
    fake, url = fake_log
    (one, _), _ = two_witnesses
    fake.raw["/checkpoint"] = answer
    watched = watch(one, fake, url)

    assert witness.witness_once(watched) == witness.Outcome.ERROR

    watched.refresh_from_db()
    assert error in watched.last_error and "secret" not in watched.last_error
    assert fake.gets == ["/log/checkpoint"]  # the redirect was not followed
    assert not LogAlarm.objects.exists() and not WitnessView.objects.exists()


def test_a_checkpoint_signed_by_another_key_is_an_error_not_an_alarm(fake_log, two_witnesses):
    fake, url = fake_log
    (one, _), _ = two_witnesses
    fake.show("*", leaves("a", 4))
    watched = watch(one, fake, url)
    assert witness.witness_once(watched) == witness.Outcome.COSIGNED
    skey, _ = notes.generate_key(ORIGIN)
    fake.views["*"] = Tree(
        leaves("z", 4), notes.sign_checkpoint(notes.Checkpoint(ORIGIN, 4, merkle.root(leaves("z", 4))), [skey])
    )

    assert witness.witness_once(watched) == witness.Outcome.ERROR
    assert not LogAlarm.objects.exists()


def test_a_server_that_drips_its_answer_is_cut_off(fake_log, two_witnesses, monkeypatch):
    fake, url = fake_log
    (one, _), _ = two_witnesses
    fake.show("*", leaves("a", 4))
    fake.drip = True
    monkeypatch.setattr(witness, "TIMEOUT", 1.0)
    watched = watch(one, fake, url)
    started = time.monotonic()

    assert witness.witness_once(watched) == witness.Outcome.ERROR

    assert time.monotonic() - started < 5
    watched.refresh_from_db()
    assert "slowly" in watched.last_error or "reached" in watched.last_error


def test_the_witness_communitys_organizer_reads_the_alarm_in_the_admin_and_cant_change_it(
    client, fake_log, two_witnesses
):
    fake, url = fake_log
    (one, two), organizers = two_witnesses
    fake.show(agent(one), leaves("a", 3))
    fake.show(agent(two), leaves("b", 3))
    witness.witness_once(watch(one, fake, url))
    witness.witness_once(watch(two, fake, url))
    alarm = LogAlarm.objects.get()
    client.force_login(organizers[1])

    page = client.get(f"/admin/ledger/logalarm/{alarm.pk}/change/")

    assert page.status_code == 200 and ORIGIN in page.content.decode()
    assert client.get("/admin/ledger/logalarm/add/").status_code == 403
    client.force_login(OrganizerMembershipFactory(community=CommunityFactory(slug="elsewhere")).user)
    assert client.get(f"/admin/ledger/logalarm/{alarm.pk}/change/").status_code == 302  # not theirs: "not found"
