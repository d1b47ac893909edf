"""The OpenAPI ``links`` on every create: what lets a client generator or schemathesis chain
create -> act -> read (``tests/test_api_stateful.py`` follows them). They are derived from the
paths by ``p2pcommons.api.schema._link_creates``; these tests make sure none can be lost
quietly, and that each one points at a real operation with every path parameter filled."""

from __future__ import annotations

import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from p2pcommons.api.schema import _link_creates

# Creates whose result nothing addresses by id in a path: nothing to link to. A new create
# that gets no links must be added here, with the reason, or get an endpoint that takes it.
UNLINKED = {
    "POST /api/v1/me/import/": "answers counts of what moved",
    "POST /api/v1/challenges/{id}/comments/": "a comment has no endpoint of its own",
    "POST /api/v1/proposals/{id}/comments/": "a comment has no endpoint of its own",
    "POST /api/v1/challenges/{id}/spend/": "answers the spending, not a thing with an id",
    "POST /api/v1/communities/{id}/join/": "the membership is under /communities/{community_pk}/members/{id}/, "
    "which takes the community from elsewhere than the path it was created on",
    "POST /api/v1/reservations/{id}/condition/": "a condition report is read with its loan",
    "POST /api/v1/reviews/": "a review is read in the list only",
    "POST /api/v1/solar/readings/": "answers counts of readings",
    "POST /api/v1/solar/readings/p1/": "answers counts of readings",
}
PARAMETER = re.compile(r"\{(\w+)\}")


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def creates(schema: dict):
    """Each POST that answers 201 with a JSON body: (label, path, operation, its 201)."""
    for path, item in schema["paths"].items():
        operation = item.get("post")
        created = (operation or {}).get("responses", {}).get("201", {})
        if "application/json" in created.get("content", {}):
            yield f"POST {path}", path, operation, created


def by_operation_id(schema: dict) -> dict[str, tuple[str, str, dict]]:
    return {
        operation["operationId"]: (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "operationId" in operation
    }


def component(schema: dict, response: dict) -> dict:
    ref = response["content"]["application/json"]["schema"]["$ref"]
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_every_create_has_links_unless_nothing_takes_what_it_creates(schema):
    unlinked = {label for label, _path, _operation, created in creates(schema) if not created.get("links")}

    assert unlinked == set(UNLINKED)


def test_a_create_links_to_every_operation_under_the_new_things_path(schema):
    """``POST /x/`` -> every operation on ``/x/{id}/...``, so an action added later is linked too."""
    operations = by_operation_id(schema)
    missing = []
    for label, path, _operation, created in creates(schema):
        linked = set(created.get("links", {}))
        for operation_id, (target, _method, _target_operation) in operations.items():
            head = re.match(re.escape(path) + r"\{(\w+)\}/", target)
            # Only what the new thing's id (and the create's own path) fully addresses: a token's
            # revoke also needs the token, so it is linked from the token's create, not the meter's.
            fillable = head and set(PARAMETER.findall(target)) <= set(PARAMETER.findall(path)) | {head[1]}
            if label not in UNLINKED and fillable and operation_id not in linked:
                missing.append(f"{label} -> {operation_id}")
    assert missing == []


def test_each_link_names_an_operation_and_fills_exactly_its_path_parameters(schema):
    operations = by_operation_id(schema)
    wrong = []
    for label, path, _operation, created in creates(schema):
        fields = set(component(schema, created).get("properties", {}))
        for name, link in created.get("links", {}).items():
            target, _method, _target_operation = operations[link["operationId"]]
            expected = set(PARAMETER.findall(target))
            expressions = link["parameters"]
            from_body = [e.removeprefix("$response.body#/") for e in expressions.values() if "$response.body" in e]
            from_path = [e.removeprefix("$request.path.") for e in expressions.values() if "$request.path" in e]
            if (
                name != link["operationId"]
                or set(expressions) != expected
                or len(from_body) != 1
                or not set(from_body) <= fields
                or not set(from_path) <= set(PARAMETER.findall(path))
                or len(from_body) + len(from_path) != len(expressions)
            ):
                wrong.append(f"{label} -> {name}: {expressions}")
    assert wrong == []


@pytest.mark.parametrize(
    ("create", "operation_id", "parameters"),
    [
        ("/api/v1/reservations/", "reservations_approve_create", {"id": "$response.body#/id"}),
        ("/api/v1/reservations/", "reservations_retrieve", {"id": "$response.body#/id"}),
        ("/api/v1/tools/", "tools_photos_create", {"id": "$response.body#/id"}),
        ("/api/v1/waitlist/{id}/accept/", "reservations_pickup_create", {"id": "$response.body#/id"}),
        ("/api/v1/challenges/{id}/proposals/", "proposals_vote_create", {"id": "$response.body#/id"}),
        ("/api/v1/challenges/{id}/ideas/", "ideas_plus_one_create", {"id": "$response.body#/id"}),
        ("/api/v1/tasks/{id}/join/", "volunteers_confirm_create", {"id": "$response.body#/id"}),
        (
            "/api/v1/solar/meters/{id}/tokens/",
            "solar_meters_tokens_revoke_create",
            {"id": "$request.path.id", "token_id": "$response.body#/id"},
        ),
        (
            "/api/v1/communities/{id}/join-requests/",
            "communities_join_requests_approve_create",
            {"id": "$request.path.id", "request_pk": "$response.body#/id"},
        ),
        (
            "/api/v1/communities/{community_pk}/exchanges/",
            "communities_exchanges_destroy",
            {"community_pk": "$request.path.community_pk", "key": "$response.body#/key"},
        ),
    ],
)
def test_a_create_links_to_the_act_on_what_it_created(schema, create, operation_id, parameters):
    links = schema["paths"][create]["post"]["responses"]["201"]["links"]

    assert links[operation_id]["operationId"] == operation_id
    assert links[operation_id]["parameters"] == parameters


def test_a_new_endpoint_gets_its_links_from_its_paths_alone():
    """The hook reads the paths and components, so nobody has to write a link by hand."""

    def operation(operation_id: str, status: str, component: str | None = None) -> dict:
        content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}}
        return {"operationId": operation_id, "responses": {status: {"content": content} if component else {}}}

    document = {
        "paths": {
            "/api/v1/widgets/": {"post": operation("widgets_create", "201", "Widget")},
            "/api/v1/widgets/{id}/": {"get": operation("widgets_retrieve", "200", "Widget")},
            "/api/v1/widgets/{id}/polish/": {"post": operation("widgets_polish_create", "200", "Widget")},
            "/api/v1/widgets/{id}/parts/": {"post": operation("widgets_parts_create", "201", "Part")},
            "/api/v1/parts/{id}/": {"get": operation("parts_retrieve", "200", "Part")},
            "/api/v1/gadgets/{id}/": {"get": operation("gadgets_retrieve", "200", "Gadget")},
        }
    }
    schemas = {name: {"properties": {"id": {"type": "integer"}}} for name in ("Widget", "Part", "Gadget")}

    added = _link_creates(document, schemas)

    widget = document["paths"]["/api/v1/widgets/"]["post"]["responses"]["201"]["links"]
    part = document["paths"]["/api/v1/widgets/{id}/parts/"]["post"]["responses"]["201"]["links"]
    assert set(widget) == {"widgets_retrieve", "widgets_polish_create", "widgets_parts_create"}
    assert widget["widgets_polish_create"]["parameters"] == {"id": "$response.body#/id"}
    assert set(part) == {"parts_retrieve"}
    assert part["parts_retrieve"]["parameters"] == {"id": "$response.body#/id"}
    assert added == 4


def test_a_time_of_day_is_described_as_the_local_time_the_api_sends(schema):
    """Found by the stateful run: a skill offer's window answered ``"10:36:08"`` where the
    schema said ``format: time`` (RFC 3339, with an offset), so every validator refused it."""
    window = schema["components"]["schemas"]["Window"]["properties"]

    assert "'format': 'time'" not in str(schema)
    assert all(
        re.fullmatch(window[name]["pattern"], sent) for name in ("start", "end") for sent in ("10:36:08", "10:00")
    )
    assert "format" not in window["start"]
