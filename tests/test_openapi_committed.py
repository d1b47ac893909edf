"""The OpenAPI schema is committed (openapi.yaml) so API changes show up in review.
Regenerate with `make schema` after changing the API."""

from pathlib import Path

import yaml
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


def test_the_committed_schema_matches_the_code(tmp_path):
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(generated), "--validate", "--fail-on-warn")
    committed = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    assert yaml.safe_load(generated.read_text()) == committed, "openapi.yaml is stale: run `make schema`"


def test_the_schema_names_the_contract_paths_and_the_token_header():
    schema = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    assert {"/api/v1/me/", "/api/v1/communities/", "/api/v1/communities/{community_pk}/members/"} <= set(
        schema["paths"]
    )
    assert schema["components"]["securitySchemes"]["sessionToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Session-Token",
        "description": schema["components"]["securitySchemes"]["sessionToken"]["description"],
    }
