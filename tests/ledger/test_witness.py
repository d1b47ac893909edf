"""Witnesses on this site and the public log protocol (apps/ledger/witness.py, wellknown.py).

Real database, real HTTP where a log is remote (pytest-django's live server serving this very
app's /.well-known/p2pcommons-log/ as an honest neighbour)."""

from __future__ import annotations

import base64
import itertools

import pytest

from apps.ledger import checkpoint as notes
from apps.ledger import log, merkle, services, witness
from apps.ledger.factories import AccountFactory
from apps.ledger.models import Checkpoint, Cosignature, LogAlarm, LogWitness, WitnessedLog, WitnessView
from apps.peers.factories import CommunityFactory, OrganizerMembershipFactory

_keys = itertools.count()


def grow(community, entries: int = 2) -> None:
    """``entries`` more entries in the community's chain (one transfer is two entries)."""
    source = AccountFactory(community=community, limit=-100000)
    target = AccountFactory(community=community)
    for _ in range(entries // 2):
        services.transfer_create(
            source=source, target=target, amount="1", idempotency_key=f"w-{next(_keys)}", enforce_membership=False
        )


def publish(community, entries: int = 2) -> Checkpoint:
    grow(community, entries)
    return log.publish_checkpoint(community=community)


def watch(witness_community, log_community, **extra) -> WitnessedLog:
    origin, vkey = log.log_identity(log_community)
    return WitnessedLog.objects.create(witness=witness_community, origin=origin, log_vkey=vkey, **extra)


def base(slug: str) -> str:
    return f"/.well-known/p2pcommons-log/{slug}/"


@pytest.fixture
def ledger(db):
    return CommunityFactory(slug="oakridge", name="Oakridge")


@pytest.fixture
def witnesses(db):
    return CommunityFactory(slug="elmwood", name="Elmwood"), CommunityFactory(slug="ashford", name="Ashford")


# --- Same-site witnesses ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_two_witnesses_on_this_site_cosign_and_the_log_shows_both_lines(ledger, witnesses):
    first = publish(ledger, 4)
    logs = [watch(w, ledger) for w in witnesses]

    assert [witness.witness_once(w) for w in logs] == [witness.Outcome.COSIGNED] * 2

    note = log.signed_note(first)
    verifiers = [log.witness_signer(w).verifier for w in witnesses]
    for verifier in verifiers:
        opened = notes.open_note(note, [verifier])
        assert [sig.name for sig in opened.sigs] == [verifier.name]
    head, opened = notes.open_checkpoint(note, [log.log_identity(ledger)[1], *verifiers], origin=first_origin(ledger))
    assert (head.size, len(opened.sigs)) == (4, 3)
    # The log now lists them as its witnesses (created for same-site witnesses).
    assert set(LogWitness.objects.filter(community=ledger).values_list("vkey", flat=True)) == {
        v.vkey for v in verifiers
    }
    for w in logs:
        w.refresh_from_db()
        assert (w.last_size, bytes(w.last_root), w.last_error) == (4, bytes(first.root), "")


def first_origin(community) -> str:
    return log.log_identity(community)[0]


@pytest.mark.django_db
def test_a_new_checkpoint_is_cosigned_after_a_consistency_check_and_a_repeat_changes_nothing(ledger, witnesses):
    publish(ledger, 2)
    watched = watch(witnesses[0], ledger)
    assert witness.witness_once(watched) == witness.Outcome.COSIGNED
    second = publish(ledger, 4)

    assert witness.witness_once(watched) == witness.Outcome.COSIGNED
    assert witness.witness_once(watched) == witness.Outcome.UNCHANGED

    assert list(WitnessView.objects.filter(witnessed_log=watched).values_list("size", flat=True)) == [6, 2]
    assert second.cosignatures.count() == 1
    assert not LogAlarm.objects.exists()


@pytest.mark.django_db
def test_a_witness_configured_with_another_key_records_an_error_not_an_alarm(ledger, witnesses):
    publish(ledger, 2)
    _, foreign = notes.generate_key(first_origin(ledger))
    watched = watch(witnesses[0], ledger)
    WitnessedLog.objects.filter(pk=watched.pk).update(log_vkey=foreign)
    watched.refresh_from_db()

    assert witness.witness_once(watched) == witness.Outcome.ERROR

    watched.refresh_from_db()
    assert "refused" in watched.last_error
    assert not LogAlarm.objects.exists() and not WitnessView.objects.exists() and not Cosignature.objects.exists()


@pytest.mark.django_db
def test_a_log_with_no_checkpoint_yet_is_an_error_and_the_sweep_goes_on(ledger, witnesses):
    empty = CommunityFactory(slug="newtown")
    publish(ledger, 2)
    broken = watch(witnesses[0], empty)
    fine = watch(witnesses[1], ledger)

    assert witness.witness_all() == {"error": 1, "cosigned": 1}

    broken.refresh_from_db()
    fine.refresh_from_db()
    assert broken.last_error and broken.checked_at and fine.last_size == 2


@pytest.mark.django_db
def test_the_beat_task_witnesses_every_active_log_and_skips_switched_off_ones(ledger, witnesses):
    from apps.ledger.tasks import witness_logs

    publish(ledger, 2)
    watch(witnesses[0], ledger)
    off = watch(witnesses[1], ledger, active=False)

    assert witness_logs() == {"cosigned": 1}
    assert witness_logs() == {"unchanged": 1}
    off.refresh_from_db()
    assert off.checked_at is None and not off.views.exists()


@pytest.mark.django_db
def test_the_sweep_is_scheduled_every_five_minutes():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="apps.ledger.tasks.witness_logs")
    assert (task.interval.every, task.interval.period, task.enabled) == (5, "minutes", True)


# --- The public protocol ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_discovery_is_public_and_names_keys_and_addresses_only(client, ledger, witnesses):
    publish(ledger, 2)
    witness.witness_once(watch(witnesses[0], ledger))

    response = client.get(base("oakridge"))

    assert response.status_code == 200
    body = response.json()
    origin, vkey = log.log_identity(ledger)
    assert (body["origin"], body["public_key"]) == (origin, vkey)
    assert body["checkpoint"] == "http://testserver/.well-known/p2pcommons-log/oakridge/checkpoint"
    assert body["consistency"].endswith("/oakridge/consistency/{first}/{second}")
    assert body["cosignature"].endswith("/oakridge/cosignature")
    elm = log.witness_signer(witnesses[0]).verifier
    assert body["witnesses"] == [{"name": elm.name, "public_key": elm.vkey}]
    assert body["witness_key"] == log.witness_signer(ledger).verifier.vkey
    notes.Verifier.from_vkey(body["witness_key"])
    missing = client.get(base("nowhere"))
    assert missing.status_code == 404 and missing["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_the_checkpoint_is_served_as_text_with_its_cosignatures(client, ledger, witnesses):
    assert client.get(base("oakridge") + "checkpoint").status_code == 404
    first = publish(ledger, 2)
    witness.witness_once(watch(witnesses[0], ledger))

    response = client.get(base("oakridge") + "checkpoint")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == log.signed_note(first)
    assert response.content.decode().count("\u2014 ") == 2
    assert client.get(base("nowhere") + "checkpoint").status_code == 404
    assert client.post(base("oakridge") + "checkpoint").status_code == 405


@pytest.mark.django_db
def test_a_consistency_proof_between_two_checkpoints_verifies(client, ledger):
    first = publish(ledger, 2)
    second = publish(ledger, 6)

    response = client.get(base("oakridge") + "consistency/2/8")

    assert response.status_code == 200 and response["Content-Type"] == "text/plain; charset=utf-8"
    proof = [base64.b64decode(line) for line in response.content.decode().splitlines()]
    assert merkle.verify_consistency(2, 8, bytes(first.root), bytes(second.root), proof)
    same = client.get(base("oakridge") + "consistency/8/8")
    assert (same.status_code, same.content) == (200, b"")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sizes",
    ["0/2", "2/0", "8/2", "3/8", "2/9", "x/8", "-1/8", "02/8", "2/" + "9" * 30, "9223372036854775808/9" + "0" * 19],
)
def test_a_consistency_request_for_anything_but_two_checkpoint_sizes_is_a_400(client, ledger, sizes):
    publish(ledger, 2)
    publish(ledger, 6)

    response = client.get(base("oakridge") + f"consistency/{sizes}")

    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"


def _cosigned_by(community, checkpoint: Checkpoint) -> str:
    return notes.cosign_note(
        log.signed_note(checkpoint), [log.witness_signer(community)], [log.log_identity(checkpoint.community)[1]]
    )


def _post(client, slug: str, body: str | bytes):
    return client.post(base(slug) + "cosignature", body, content_type="text/plain")


@pytest.mark.django_db
def test_a_known_witness_posts_its_cosignature_once(client, ledger, witnesses):
    first = publish(ledger, 2)
    elm = log.witness_signer(witnesses[0]).verifier
    LogWitness.objects.create(community=ledger, name=elm.name, vkey=elm.vkey)

    created = _post(client, "oakridge", _cosigned_by(witnesses[0], first))
    again = _post(client, "oakridge", _cosigned_by(witnesses[0], first))

    assert (created.status_code, again.status_code) == (201, 200)
    assert list(first.cosignatures.values_list("witness_name", flat=True)) == [elm.name]
    notes.open_note(log.signed_note(first), [elm])


@pytest.mark.django_db
def test_a_cosignature_from_a_witness_the_log_does_not_know_is_a_403(client, ledger, witnesses):
    first = publish(ledger, 2)
    elm = log.witness_signer(witnesses[0]).verifier
    LogWitness.objects.create(community=ledger, name=elm.name, vkey=elm.vkey)
    # Ashford is not a witness of Oakridge; a key made up under Elmwood's name is not Elmwood's.
    impostor, _ = notes.generate_key(elm.name)

    unknown = _post(client, "oakridge", _cosigned_by(witnesses[1], first))
    forged = _post(
        client, "oakridge", notes.cosign_note(log.signed_note(first), [impostor], [log.log_identity(ledger)[1]])
    )

    assert (unknown.status_code, forged.status_code) == (403, 403)
    assert not Cosignature.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [b"", b"hello", b"\xff\xfe garbage\n\n", "oakridge\n2\nnot base64\n\n\u2014 x AAAAAAA=\n".encode()],
)
def test_garbage_posted_as_a_cosignature_is_a_400(client, ledger, body):
    publish(ledger, 2)
    assert _post(client, "oakridge", body).status_code == 400


@pytest.mark.django_db
def test_a_cosignature_of_a_checkpoint_the_log_never_signed_is_a_404(client, ledger, witnesses):
    publish(ledger, 2)
    origin = first_origin(ledger)
    made_up = notes.sign_checkpoint(notes.Checkpoint(origin, 2, b"\1" * 32), [log.witness_signer(witnesses[0])])
    other = notes.sign_checkpoint(notes.Checkpoint("elsewhere/ledger/x", 2, b"\1" * 32), [log.witness_signer(ledger)])

    assert _post(client, "oakridge", made_up).status_code == 404
    assert _post(client, "oakridge", other).status_code == 404
    assert _post(client, "nowhere", made_up).status_code == 404


@pytest.mark.django_db
def test_a_cosignature_body_over_64_kib_is_refused_unread(client, ledger, witnesses):
    first = publish(ledger, 2)
    note = _cosigned_by(witnesses[0], first)

    response = _post(client, "oakridge", note + "x" * (64 * 1024))

    assert response.status_code == 413
    assert client.get(base("oakridge") + "cosignature").status_code == 405


@pytest.mark.django_db
def test_the_protocol_answers_in_a_bounded_number_of_queries(client, ledger, django_assert_max_num_queries):
    for _ in range(3):
        publish(ledger, 2)
    with django_assert_max_num_queries(4):
        assert client.get(base("oakridge") + "consistency/2/6").status_code == 200
    with django_assert_max_num_queries(4):
        assert client.get(base("oakridge") + "checkpoint").status_code == 200


# --- A remote honest log: this app, served for real --------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_remote_log_is_witnessed_over_http_and_receives_the_cosignature(live_server, settings):
    settings.LEDGER_WITNESS_ALLOW_HTTP = True
    ledger = CommunityFactory(slug="faraway", name="Faraway")
    elm = CommunityFactory(slug="elmwood", name="Elmwood")
    first = publish(ledger, 2)
    verifier = log.witness_signer(elm).verifier
    LogWitness.objects.create(community=ledger, name=verifier.name, vkey=verifier.vkey)
    watched = watch(elm, ledger, url=f"{live_server.url}{base('faraway')}")

    assert witness.witness_once(watched) == witness.Outcome.COSIGNED
    publish(ledger, 4)
    assert witness.witness_once(watched) == witness.Outcome.COSIGNED

    watched.refresh_from_db()
    assert (watched.last_size, watched.last_error) == (6, "")
    assert Cosignature.objects.filter(witness_name=verifier.name).count() == 2
    notes.open_note(log.signed_note(first), [verifier])


@pytest.mark.django_db(transaction=True)
def test_a_plain_http_log_is_refused_unless_allowed(live_server, settings):
    settings.LEDGER_WITNESS_ALLOW_HTTP = False
    ledger = CommunityFactory(slug="faraway")
    publish(ledger, 2)
    watched = watch(CommunityFactory(slug="elmwood"), ledger, url=f"{live_server.url}{base('faraway')}")

    assert witness.witness_once(watched) == witness.Outcome.ERROR

    watched.refresh_from_db()
    assert "https://" in watched.last_error
    assert not WitnessView.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/log", "gopher://x/"])
def test_only_http_addresses_are_ever_opened(ledger, witnesses, url, settings):
    settings.LEDGER_WITNESS_ALLOW_HTTP = True
    watched = watch(witnesses[0], ledger, url=url)

    assert witness.witness_once(watched) == witness.Outcome.ERROR
    watched.refresh_from_db()
    assert "https://" in watched.last_error


@pytest.mark.django_db
def test_the_alarm_kind_is_offered_to_organizers():
    from apps.notifications.kinds import get_kind

    kind = get_kind("ledger.log_alarm")
    assert kind.for_organizers and "two different histories" in str(kind.label)


@pytest.mark.django_db
def test_organizers_only_see_their_communities_witness_rows_in_the_admin(client, ledger, witnesses):
    organizer = OrganizerMembershipFactory(community=witnesses[0]).user
    mine = watch(witnesses[0], ledger)
    theirs = watch(witnesses[1], ledger)
    client.force_login(organizer)

    listed = client.get("/admin/ledger/witnessedlog/")

    assert listed.status_code == 200
    assert f"/admin/ledger/witnessedlog/{mine.pk}/" in listed.content.decode()
    assert f"/admin/ledger/witnessedlog/{theirs.pk}/" not in listed.content.decode()


@pytest.mark.django_db
def test_an_organizer_adds_a_neighbour_to_witness_and_the_form_checks_key_and_address(client, ledger, witnesses):
    organizer = OrganizerMembershipFactory(community=witnesses[0]).user
    client.force_login(organizer)
    origin, vkey = log.log_identity(ledger)
    _, stranger_key = notes.generate_key("elsewhere.example/ledger/x")
    add = "/admin/ledger/witnessedlog/add/"
    good = {"witness": witnesses[0].pk, "origin": origin, "log_vkey": vkey, "url": "", "active": "on"}

    bad = [
        {**good, "log_vkey": "not a key"},
        {**good, "log_vkey": stranger_key},
        {**good, "url": "http://oakridge.example/.well-known/p2pcommons-log/oakridge"},
        {**good, "witness": witnesses[1].pk},  # not their community
    ]
    for data in bad:
        response = client.post(add, data)
        assert response.status_code == 200 and response.context["adminform"].form.errors, data
    assert not WitnessedLog.objects.exists()

    assert client.post(add, good).status_code == 302
    assert WitnessedLog.objects.get().witness == witnesses[0]
    assert client.post(add, good).status_code == 200  # the same neighbour twice: a form error, not a 500


@pytest.mark.django_db
def test_an_organizer_accepts_a_witness_by_its_key_and_the_name_comes_from_the_key(client, ledger, witnesses):
    organizer = OrganizerMembershipFactory(community=ledger).user
    client.force_login(organizer)
    vkey = log.witness_signer(witnesses[0]).verifier.vkey
    add = "/admin/ledger/logwitness/add/"

    assert client.post(add, {"community": ledger.pk, "vkey": "nope"}).status_code == 200
    assert client.post(add, {"community": ledger.pk, "vkey": vkey}).status_code == 302
    assert client.post(add, {"community": ledger.pk, "vkey": vkey}).status_code == 200

    accepted = LogWitness.objects.get()
    assert (accepted.name, accepted.vkey) == (log.witness_name(witnesses[0]), vkey)


@pytest.mark.django_db
def test_the_logs_organizer_sees_its_checkpoints_with_the_witnesses_signatures(client, ledger, witnesses):
    first = publish(ledger, 2)
    witness.witness_once(watch(witnesses[0], ledger))
    client.force_login(OrganizerMembershipFactory(community=ledger).user)

    page = client.get(f"/admin/ledger/checkpoint/{first.pk}/change/")

    assert page.status_code == 200
    assert log.witness_name(witnesses[0]) in page.content.decode()
    assert client.get("/admin/ledger/checkpoint/").status_code == 200
