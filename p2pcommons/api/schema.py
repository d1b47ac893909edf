"""The OpenAPI schema as a generated client needs it: named error shapes, typed ids, the
401 on every operation, and per-operation conflict codes.

Mobile teams generate their Swift, Kotlin or TypeScript client from ``openapi.yaml``
(``tests/api/test_generated_client.py`` does it with openapi-python-client). What makes
that work is kept here, in one place, so no view has to remember it:

- the error bodies are named components, ``FieldErrors`` (400) and ``Problem`` (401,
  403, 404, 429, 503), referenced by ``FIELD_ERRORS``, ``NOT_FOUND`` and ``FORBIDDEN``; every
  409 is declared with its own codes (below), so there is no catch-all rule error;
- ``conflicts("fee_changed", "overlap", data={"next_free_start": OpenApiTypes.DATETIME})``
  declares the 409 of one operation with its ``code`` values as an enum (and the data a
  refusal carries, see ``RuleViolation.data``); it becomes the component
  ``<Operation>Conflict``;
- the hook ``postprocess`` (in ``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``) adds the
  401 and the 503 (a service briefly away, p2pcommons/resilience.py) to every operation
  and the 404 of a page past the last to every paginated list,
  types the ids in paths as integers, makes query parameters use named enums, and drops
  components no operation uses, writes times of day as local ``HH:MM[:SS]`` (``LOCAL_TIME``),
  and puts OpenAPI ``links`` on the 201 of every create (``_link_creates``) so a client
  generator or schemathesis can chain create -> act -> read;
- ``AutoSchema`` names request bodies ``<Name>Input`` (``SkillRequestInput``, not
  ``SkillRequestRequest``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse

from p2pcommons.converters import IdConverter


class XSessionTokenScheme(OpenApiAuthenticationExtension):
    target_class = "p2pcommons.api.authentication.SessionTokenAuthentication"
    name = "sessionToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Session-Token",
            "description": (
                "Log in with POST /_allauth/app/v1/auth/login and send the returned meta.session_token in this header. "
                "A missing, invalid or expired token is answered 401: log in again."
            ),
        }


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's, naming the request side of a split component ``<Name>Input``.

    With ``COMPONENT_SPLIT_REQUEST`` spectacular appends ``Request``, which gives
    ``SkillRequestRequest`` and ``JoinRequestRequest``, names a generated client can't
    tell apart from its own HTTP request types. (``_get_serializer_name`` is private to
    drf-spectacular; ``tests/api/test_schema.py`` checks the names it gives.)
    """

    def _get_serializer_name(self, serializer, direction, bypass_extensions=False) -> str:
        name = super()._get_serializer_name(serializer, direction, bypass_extensions)
        if direction == "request" and spectacular_settings.COMPONENT_SPLIT_REQUEST and name.endswith("Request"):
            name = name.removesuffix("Request") + "Input"
        return name


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


_STRINGS = {"type": "array", "items": {"type": "string"}}

ERROR_COMPONENTS: dict[str, dict] = {
    "FieldErrors": {
        "type": "object",
        "description": (
            "Bad input: for each offending field (a body field, a query parameter or a header), the list of what is "
            "wrong with it; `non_field_errors` for what concerns no single field. A body that is not JSON at all "
            "gets `detail` instead."
        ),
        "properties": {
            "non_field_errors": {**_STRINGS, "description": "What is wrong with the request as a whole."},
            "detail": {"type": "string", "description": "The body could not be read (not JSON)."},
        },
        "additionalProperties": _STRINGS,
    },
    "Problem": {
        "type": "object",
        "description": "Why a request was refused, in a sentence a person can read.",
        "properties": {
            "detail": {"type": "string"},
            "code": {"type": "string", "description": "For programs, where there is one."},
        },
        "required": ["detail"],
    },
}

FIELD_ERRORS = OpenApiResponse(response=_ref("FieldErrors"), description="Bad input (see `FieldErrors`).")
NOT_FOUND = OpenApiResponse(response=_ref("Problem"), description="No such object, or not one you can see.")
FORBIDDEN = OpenApiResponse(response=_ref("Problem"), description="You may not do this.")
UNAUTHORIZED = "Not signed in: the session token is missing, invalid or expired. Log in again."
PAGE_NOT_FOUND = "No such page (past the last one, or not a page number)."
UNAVAILABLE = (
    "A service the server needs (its database, cache or queue) is briefly away; nothing was saved. "
    "Try again after the Retry-After header's seconds."
)

_CONFLICT = "x-p2p-conflict"


def conflicts(
    *codes: str, data: Mapping[str, OpenApiTypes | dict] | None = None, name: str | None = None
) -> OpenApiResponse:
    """The 409 of one operation: ``code`` is one of ``codes`` (the service's
    ``RuleViolation`` codes), and the refusal may carry ``data`` (name -> type, each
    optional) beside ``detail``. In ``extend_schema(responses={409: conflicts(...)})``.

    The schema gets a component ``<Operation>Conflict`` (e.g. ``ReservationsCreateConflict``),
    or ``name`` when several operations share one set of codes.
    """
    if not codes:
        raise ValueError("conflicts() needs the codes the operation's refusals use.")
    properties: dict[str, Any] = {
        "detail": {"type": "string", "description": "Why, in a sentence a person can read."},
        "code": {"type": "string", "enum": sorted(set(codes)), "description": "Which rule refused it."},
    }
    for key, kind in (data or {}).items():
        properties[key] = kind if isinstance(kind, dict) else build_basic_type(kind)
    schema = {"type": "object", "properties": properties, "required": ["detail", "code"], _CONFLICT: name or ""}
    listed = ", ".join(f"`{code}`" for code in sorted(set(codes)))
    return OpenApiResponse(response=schema, description=f"A rule refuses it; `code` says which: {listed}.")


# --- the hook -----------------------------------------------------------------------
_ID_PATTERN = f"^{IdConverter.regex}$"
ID_SCHEMA = {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}


def _camel(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def _operations(result: dict):
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield path, method, operation


def _conflict_name(path: str, operation: dict) -> str:
    # An action's POST is "<...>_create" to spectacular; "ReservationsApproveConflict" reads better.
    operation_id = operation["operationId"]
    if "{" in path:
        operation_id = operation_id.removesuffix("_create")
    return f"{_camel(operation_id)}Conflict"


def _name_conflicts(result: dict, schemas: dict) -> None:
    for path, _method, operation in _operations(result):
        content = operation["responses"].get("409", {}).get("content", {})
        for media in content.values():
            declared = media.get("schema", {})
            if _CONFLICT not in declared:
                continue
            # A copy: the declaration is reused by every operation and every generation.
            schema = {key: value for key, value in declared.items() if key != _CONFLICT}
            name = declared[_CONFLICT] or _conflict_name(path, operation)
            if name in schemas and schemas[name] != schema:
                raise ValueError(f"Two different conflicts are named {name}: give one another name.")
            schemas[name] = schema
            media["schema"] = _ref(name)


def _named_enums(schemas: dict) -> dict[frozenset, str]:
    """The value sets of the named string enums, each with its component (if only one has it)."""
    seen: dict[frozenset, list[str]] = {}
    for name, schema in schemas.items():
        if "enum" in schema and schema.get("type") == "string":
            seen.setdefault(frozenset(schema["enum"]), []).append(name)
    return {values: names[0] for values, names in seen.items() if len(names) == 1}


def _parameter_enum(schemas: dict, enums: dict[frozenset, str], operation: dict, parameter: dict) -> str:
    """The named enum a filter's values are: the field's own (``?kind=`` is a ``TransferKindEnum``)
    or, for values no field has, a new one named after the list and the parameter
    (``?role=`` of reservations: ``ReservationsRoleEnum``)."""
    values = frozenset(parameter["schema"]["enum"])
    if values not in enums:
        base = _camel(parameter["name"])
        name = f"{base}Enum"
        if name in schemas:
            name = f"{_camel(operation['operationId'].rsplit('_', 1)[0])}{base}Enum"
        if name in schemas:
            raise ValueError(f"The values of ?{parameter['name']} need a name: add them to ENUM_NAME_OVERRIDES.")
        schemas[name] = {key: value for key, value in parameter["schema"].items() if key != "nullable"}
        enums[values] = name
    return enums[values]


def _refs(node) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


def _used(result: dict, schemas: dict) -> dict:
    """Only the components an operation uses: spectacular also emits the request side of
    serializers that are only ever nested read-only (a generator would make dead types)."""
    used, todo = set(), _refs(result.get("paths", {}))
    while todo:
        name = todo.pop()
        if name not in used and name in schemas:
            used.add(name)
            todo |= _refs(schemas[name])
    return {name: schema for name, schema in sorted(schemas.items()) if name in used}


def _problem(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref("Problem")}}}


# A time of day in this API is a local wall-clock time (a skill offer's weekly window, a
# standing order's hours): "10:00" stays 10:00 when summer time starts. The schema's
# ``format: time`` is RFC 3339's, which carries an offset ("10:00:00+01:00"), so a validator
# (schemathesis, a generated client) rejects what the API sends; such fields get this
# pattern instead, the one ``apps.solar.api_fields.LocalTimeField`` declares.
LOCAL_TIME = {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", "example": "10:00"}


def _local_times(node) -> None:
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("format") == "time":
            del node["format"]
            node.update({key: value for key, value in LOCAL_TIME.items() if key not in node})
        for value in node.values():
            _local_times(value)
    elif isinstance(node, list):
        for value in node:
            _local_times(value)


_PARAMETER = re.compile(r"\{(\w+)\}")
_DETAIL = re.compile(r"(?P<collection>[^{}]*/)\{(?P<id>\w+)\}/")


def _body_component(operation: dict, status: str) -> str | None:
    schema = operation["responses"].get(status, {}).get("content", {}).get("application/json", {}).get("schema", {})
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref.startswith("#/components/schemas/") else None


def _collections_of(path: str, component: str, details: dict[str, set[str]], paths: dict) -> set[str]:
    """Where the thing a POST on ``path`` creates is addressed by its id: under ``path`` itself
    (``/tools/`` -> ``/tools/{id}/``), under every collection whose detail GET answers the same
    component (``/challenges/{id}/proposals/`` -> ``/proposals/{id}/``), and, for a nested
    create, under the top-level collection of the same name (``/challenges/{id}/ideas/`` ->
    ``/ideas/{id}/plus-one/``)."""
    found = {path} | details.get(component, set())
    if "{" in path:
        top = path[: path.index("{")].rstrip("/").rsplit("/", 1)[0] + "/"
        sibling = top + path.rstrip("/").rsplit("/", 1)[1] + "/"
        if "{" not in sibling and any(key.startswith(sibling + "{") for key in paths):
            found.add(sibling)
    return found


def _link_creates(result: dict, schemas: dict) -> int:
    """OpenAPI ``links`` on the 201 of every POST that creates something addressable: to each
    operation that takes the new thing in its path (its detail GET and its actions), with its
    ``id`` (or the field the path parameter is named after) from the response body and any
    other path parameter from the create's own path.

    Derived from the paths and components, so a new endpoint gets its links without anyone
    writing them; ``tests/api/test_schema_links.py`` checks every create has them, and
    ``tests/test_api_stateful.py`` follows them. Returns how many links it added.
    """
    paths = result.get("paths", {})
    details: dict[str, set[str]] = {}
    for path, method, operation in _operations(result):
        detail = _DETAIL.fullmatch(path)
        component = _body_component(operation, "200")
        if method == "get" and detail and component and "{" not in detail["collection"]:
            details.setdefault(component, set()).add(detail["collection"])
    added = 0
    for path, method, operation in list(_operations(result)):
        component = _body_component(operation, "201")
        if method != "post" or not component:
            continue
        fields = schemas.get(component, {}).get("properties", {})
        own = set(_PARAMETER.findall(path))
        links: dict[str, dict] = {}
        for collection in sorted(_collections_of(path, component, details, paths)):
            for target, item in paths.items():
                head = re.match(re.escape(collection) + r"\{(\w+)\}/", target)
                if not head or set(_PARAMETER.findall(target)) - own - {head[1]}:
                    continue
                # The new thing's id, or the field its path is named after (an exchange's ``key``).
                identifier = head[1] if head[1] in fields else "id"
                if identifier not in fields:
                    continue
                parameters = {name: f"$request.path.{name}" for name in _PARAMETER.findall(target) if name in own}
                parameters[head[1]] = f"$response.body#/{identifier}"
                for target_method, target_operation in item.items():
                    if isinstance(target_operation, dict) and "operationId" in target_operation:
                        links[target_operation["operationId"]] = {
                            "operationId": target_operation["operationId"],
                            "parameters": dict(parameters),
                            "description": f"{target_method.upper()} {target} of the {component} just created.",
                        }
        if links:
            operation["responses"]["201"] = {**operation["responses"]["201"], "links": dict(sorted(links.items()))}
            added += len(links)
    return added


def postprocess(result: dict, generator, request, public) -> dict:
    """See the module docstring; runs after spectacular's own enum naming."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in ERROR_COMPONENTS.items():
        schemas.setdefault(name, copy.deepcopy(schema))
    _name_conflicts(result, schemas)
    enums = _named_enums(schemas)
    for _path, _method, operation in _operations(result):
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            if parameter.get("in") == "path" and schema.get("pattern") == _ID_PATTERN:
                parameter["schema"] = dict(ID_SCHEMA)
            elif "enum" in schema:
                parameter["schema"] = _ref(_parameter_enum(schemas, enums, operation, parameter))
        responses = operation["responses"]
        responses.setdefault("401", _problem(UNAUTHORIZED))
        responses.setdefault("503", _problem(UNAVAILABLE))  # p2pcommons/resilience.py
        ok = responses.get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
        if ok.get("$ref", "").startswith("#/components/schemas/Paginated"):
            if "404" in responses:
                found = responses["404"]
                found["description"] = f"{found['description']} Or no such page (past the last one)."
            else:
                responses["404"] = _problem(PAGE_NOT_FOUND)
        operation["responses"] = dict(sorted(responses.items()))
    result["components"]["schemas"] = _used(result, schemas)
    _local_times(result)
    _link_creates(result, result["components"]["schemas"])
    return result
