"""Download my data: the zip holds every row about the member in every app, as JSON that
validates against the documented schema and as matching CSVs, with a README and their
photos, and nothing private about anyone else."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import jsonschema
import pytest

from apps.privacy import export
from apps.privacy.export import cell, export_build, export_request
from apps.privacy.models import ExportJob
from apps.privacy.registry import exporters
from tests.privacy import test_export_world
from tests.privacy.test_export_world import OTHER_ADDRESS, OTHER_EMAIL, OTHER_PHONE

world = test_export_world.world  # the fixture: a member with rows in every app

SCHEMA = json.loads((Path(export.__file__).parent / "export_schema.json").read_text(encoding="utf-8"))


def built_zip(user) -> tuple[ExportJob, zipfile.ZipFile]:
    job = export_request(user=user)
    assert export_build(job.pk) is True
    job.refresh_from_db()
    assert job.status == ExportJob.Status.READY and job.progress == 100
    return job, zipfile.ZipFile(export.export_path(job))


@pytest.fixture
def archive(world):
    return built_zip(world.me)[1]


def test_every_row_about_the_member_is_in_the_zip_by_id(world, archive):
    data = json.loads(archive.read("data.json"))
    tables = data["tables"]
    for table, ids in world.expected.items():
        found = {row["id"] for row in tables[table]}
        assert found == ids, f"{table}: expected {sorted(ids)}, found {sorted(found)}"
    # every app contributed rows
    apps_with_rows = {
        SCHEMA["properties"]["tables"]["properties"][name]["x-app"] for name, rows in tables.items() if rows
    }
    assert apps_with_rows == {e.app for e in exporters()}
    assert data["member"] == {"id": world.me.pk, "display_name": "Mia Member", "email": "mia@example.org"}
    assert tables["profile"][0]["exact_address"] == "1 My Street"  # their own private details are theirs


def test_the_ledger_table_has_each_entry_with_its_sequence_and_hash(world, archive):
    entries = json.loads(archive.read("data.json"))["tables"]["ledger_entries"]
    # two entries per transfer: 1-2 mine to Otto, 3-4 between two others, 5-6 Otto to me, 7-8 my solar payment
    assert [e["seq"] for e in entries] == [1, 6, 7]
    assert all(len(e["hash"]) == 64 and len(e["prev_hash"]) == 64 for e in entries)
    assert {e["counterparty"] for e in entries} == {"Otto Other"}


def test_data_json_validates_against_the_documented_schema(archive):
    data = json.loads(archive.read("data.json"))
    jsonschema.validate(data, SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_the_schema_names_exactly_the_tables_and_fields_the_exporters_give(world):
    documented = SCHEMA["properties"]["tables"]["properties"]
    tables, _ledgers = export.collect(world.me)
    assert set(tables) == set(documented)
    for name, rows in tables.items():
        for row in rows:
            assert set(row) == set(documented[name]["items"]["properties"]), name


def test_the_docs_describe_every_table():
    docs = (Path(export.__file__).parents[2] / "docs" / "data-export.md").read_text(encoding="utf-8")
    for name in SCHEMA["properties"]["tables"]["properties"]:
        assert f"`{name}`" in docs


def test_each_csv_matches_its_json_table(archive):
    tables = json.loads(archive.read("data.json"))["tables"]
    for name, rows in tables.items():
        text = archive.read(f"csv/{name}.csv").decode("utf-8")
        parsed = list(csv.reader(io.StringIO(text)))
        if not rows:
            assert parsed == [[]] or parsed == [], name
            continue
        header, body = parsed[0], parsed[1:]
        assert header == list(rows[0]), name
        assert body == [[cell(row[column]) for column in header] for row in rows], name


def test_the_readme_and_the_photos_are_in_the_zip(world, archive):
    names = set(archive.namelist())
    readme = archive.read("README.txt").decode("utf-8")
    assert "verify_ledger_export.py community.json --entries ledger/<community>.json" in readme
    assert "ledger/sunnyside.json" in names
    tables = json.loads(archive.read("data.json"))["tables"]
    paths = [
        tables["profile"][0]["avatar_file"],
        tables["tool_photos"][0]["image_file"],
        tables["loan_condition_photos"][0]["photo_file"],
        tables["design_proposal_photos"][0]["image_file"],
    ]
    for path in paths:
        assert path.startswith("photos/") and path in names
        assert archive.read(path)[:2] == b"\xff\xd8"  # a JPEG
    assert len([n for n in names if n.startswith("photos/")]) == 4  # not the neighbor's avatar


def test_nothing_private_about_another_member_is_anywhere_in_the_zip(world, archive):
    everything = b"".join(archive.read(name) for name in archive.namelist())
    for secret in (OTHER_EMAIL, OTHER_ADDRESS, OTHER_PHONE):
        assert secret.encode() not in everything
    other_avatar = world.other.profile.avatar.read()
    assert other_avatar not in everything
    tables = json.loads(archive.read("data.json"))["tables"]
    assert world.other_ballot.pk not in {b["id"] for b in tables["design_ballots"]}
    assert world.other_ballot_entry.pk not in {e["id"] for e in tables["design_ballot_entries"]}
    assert all(e["ballot_id"] != world.other_ballot.pk for e in tables["design_ballot_entries"])
    assert all(n["text"].find("Private to Otto") < 0 for n in tables["notifications"])


def test_a_review_still_blind_is_not_in_its_subjects_download(world):
    from apps.reputation.models import Review

    Review.objects.filter(subject=world.me).update(revealed_at=None)
    tables, _ = export.collect(world.me)
    assert tables["reviews_received"] == []
    assert len(tables["reviews_written"]) == 1
