"""The schema a mobile team generates its client from: every rule a generator relies on,
checked over every operation, so a new endpoint can't quietly break a generated client."""

from __future__ import annotations

import re

import pytest
from drf_spectacular.generators import SchemaGenerator

# The operations of the core apps and the skill swap; tools' follow the same rules once
# its endpoints come from the transition declarations.
DECLARED_CONFLICT_TAGS = {"me", "communities", "ledger", "notifications", "reviews", "moderation", "skills"}
UNSAFE = {"post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", method, operation


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def json_schema(response: dict) -> dict:
    return response.get("content", {}).get("application/json", {}).get("schema", {})


def test_every_operation_documents_the_401_of_a_missing_or_expired_token(schema):
    missing = [
        label
        for label, _, operation in operations(schema)
        if json_schema(operation["responses"].get("401", {})) != {"$ref": "#/components/schemas/Problem"}
    ]
    assert missing == []


def test_every_operation_documents_the_503_of_a_service_briefly_away(schema):
    """What p2pcommons/resilience.py answers when the database, the cache or the queue is
    away (tests/faults): a Problem, so a generated client can read ``detail`` and retry."""
    missing = [
        label
        for label, _, operation in operations(schema)
        if json_schema(operation["responses"].get("503", {})) != {"$ref": "#/components/schemas/Problem"}
    ]
    assert missing == []


def test_every_400_is_the_one_field_errors_component(schema):
    other = [
        label
        for label, _, operation in operations(schema)
        if "400" in operation["responses"]
        and json_schema(operation["responses"]["400"]) != {"$ref": "#/components/schemas/FieldErrors"}
    ]
    assert other == []


def test_an_operation_without_a_body_documents_no_400(schema):
    bodiless = [
        label
        for label, method, operation in operations(schema)
        if method in UNSAFE and "requestBody" not in operation and "400" in operation["responses"]
    ]
    assert bodiless == []


def test_each_body_has_one_content_type_and_only_uploads_are_multipart(schema):
    wrong = []
    for label, _, operation in operations(schema):
        content = operation.get("requestBody", {}).get("content", {})
        bodies = [resolve(schema, media["schema"]) for media in content.values()]
        uploads = any(
            field.get("format") == "binary" for body in bodies for field in body.get("properties", {}).values()
        )
        if content and list(content) != ["multipart/form-data" if uploads else "application/json"]:
            wrong.append(f"{label}: {sorted(content)}")
    assert wrong == []


def test_ids_in_paths_are_integers(schema):
    typed = {
        (label, parameter["name"]): parameter["schema"].get("type") or parameter["schema"].get("$ref", "")
        for label, _, operation in operations(schema)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path"
    }
    assert typed, "the schema should have paths with ids"
    # Besides ids, a path may name one of a fixed set (a blueprint's key), as a named enum.
    assert {key: kind for key, kind in typed.items() if kind != "integer" and not kind.endswith("Enum")} == {}


def is_paginated(operation: dict) -> bool:
    ok = json_schema(operation["responses"].get("200", {}))
    return ok.get("$ref", "").startswith("#/components/schemas/Paginated")


def test_every_paginated_list_documents_the_404_of_a_page_past_the_last(schema):
    lists = [(label, operation) for label, _, operation in operations(schema) if is_paginated(operation)]
    assert lists
    assert [label for label, operation in lists if "404" not in operation["responses"]] == []
    assert all("page" in operation["responses"]["404"]["description"] for _, operation in lists)


def test_the_409s_of_the_core_apps_list_their_codes(schema):
    undeclared = []
    for label, _, operation in operations(schema):
        if "409" not in operation["responses"] or not DECLARED_CONFLICT_TAGS & set(operation.get("tags", [])):
            continue
        conflict = resolve(schema, json_schema(operation["responses"]["409"]))
        if not conflict["properties"]["code"].get("enum"):
            undeclared.append(label)
    assert undeclared == []


def test_no_object_is_left_untyped(schema):
    untyped = []

    def walk(node, where):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" not in node and not node.get("additionalProperties"):
                untyped.append(where)
            if node.get("additionalProperties") in ({}, True):
                untyped.append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    walk(schema, "")
    assert untyped == []


def test_query_parameters_reuse_the_named_enums(schema):
    inline = [
        f"{label} ?{parameter['name']}"
        for label, _, operation in operations(schema)
        for parameter in operation.get("parameters", [])
        if "enum" in parameter.get("schema", {})
    ]
    assert inline == []


@pytest.mark.parametrize(
    ("field", "enum"),
    [
        ("Seat.status", "SeatStatusEnum"),
        ("Match.my_side", "MatchSideEnum"),
        ("Review.exchange_type", "ExchangeTypeEnum"),
        ("Notification.kind", "NotificationKindEnum"),
        ("Transfer.kind", "TransferKindEnum"),
        ("MyCommunity.status", "MembershipStatusEnum"),
        ("MyMembership.role", "RoleEnum"),
    ],
)
def test_enum_like_strings_are_named_enums(schema, field, enum):
    component, prop = field.split(".")
    node = schema["components"]["schemas"][component]["properties"][prop]
    refs = [node, *node.get("allOf", [])]
    assert {"$ref": f"#/components/schemas/{enum}"} in refs


def test_component_names_a_swift_or_typescript_generator_keeps(schema):
    names = set(schema["components"]["schemas"])
    ambiguous = {"Error", "Request", "Session", "Category", "KindEnum"}
    assert names & ambiguous == set()
    assert [name for name in names if name.endswith("RequestRequest") or re.search(r"[0-9a-f]{3}Enum$", name)] == []
    assert {"SkillRequest", "SkillRequestInput", "SkillSession", "SkillCategory", "NotificationKindEnum"} <= names


def test_the_ledger_export_is_described_field_by_field(schema):
    export = json_schema(schema["paths"]["/api/v1/ledger/export/"]["get"]["responses"]["200"])
    document = resolve(schema, export)

    assert set(document["properties"]) == {"format", "community", "exported_at", "accounts", "entries"}
    entry = resolve(schema, document["properties"]["entries"]["items"])
    assert {"seq", "prev_hash", "hash", "amount", "balance_after", "idempotency_key"} <= set(entry["properties"])


def test_making_the_schema_twice_gives_the_same_schema(schema):
    # The hook must not change the views' declarations it reads (they serve every request).
    assert SchemaGenerator().get_schema(request=None, public=True) == schema


def test_a_filter_whose_values_no_field_has_gets_a_named_enum_of_its_own():
    from p2pcommons.api.schema import postprocess

    role = {"in": "query", "name": "role", "schema": {"type": "string", "enum": ["borrower", "lender"]}}
    listing = {"operationId": "reservations_list", "parameters": [role], "responses": {}}
    result = {
        "paths": {"/api/v1/reservations/": {"get": listing}},
        "components": {"schemas": {"RoleEnum": {"type": "string", "enum": ["member", "organizer"]}}},
    }

    schemas = postprocess(result, None, None, True)["components"]["schemas"]

    assert role["schema"] == {"$ref": "#/components/schemas/ReservationsRoleEnum"}
    assert schemas["ReservationsRoleEnum"]["enum"] == ["borrower", "lender"]
