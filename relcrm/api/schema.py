"""The OpenAPI schema as a contract a generated client can rely on.

drf-spectacular documents what a view declares: its request serializer and its
success answer. The rest of what an operation answers follows from facts of the
view, so ``AutoSchema`` adds it here once rather than each view declaring it:

- the error answers: 400 for a body, a filter or a ``page_size`` that is not
  valid (and, on every operation, for a request Django refuses before any view
  runs, such as a ``Host`` not in ALLOWED_HOSTS: ``relcrm.error_views``), 401
  when the view authenticates, 403 for a write (a role, or a session sign-in
  without its CSRF token), 404 for an operation on one object or a paginated
  list (a cursor it did not give out), 413 for a body over Django's upload
  limit and 415 for one that is not JSON, 429 when the view throttles, 412 for
  a PATCH or DELETE with ``If-Match`` and 422 for a POST whose
  ``Idempotency-Key`` was sent with another request. An
  operation that can answer another error (a transition's 409) declares it
  with ``extend_schema``, and what it declares wins;
- the headers of safe retries and concurrent edits: ``Idempotency-Key`` on
  every POST and ``Idempotent-Replayed`` on its replayed answers, ``ETag`` on
  every answer that is one object and ``If-Match`` on PATCH and DELETE
  (``relcrm.api.idempotency``, ``relcrm.api.conditional``);
- every property of a response is required: every answer writes all of them
  (``answer_optional`` on a serializer names any that some answers leave out);
- a PATCH body lists only what a PATCH may change (``unpatchable`` on the
  serializer names the rest).

``postprocess_schema`` (a postprocessing hook) then gives a query parameter's
enum the name of the component enum of the same values, so that a choice set
has one name, and drops components nothing refers to.
"""

from collections.abc import Iterator

from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent, is_patched_serializer
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import permissions
from rest_framework.authentication import SessionAuthentication
from rest_framework.pagination import CursorPagination

from relcrm.api import conditional, idempotency

DETAIL = "ErrorDetail"
FIELD_ERRORS = "FieldErrors"
COMPONENT_PREFIX = "#/components/schemas/"

# The error bodies every error answer uses, as components.
ERROR_COMPONENTS = {
    DETAIL: {
        "type": "object",
        "description": "What went wrong, in a sentence.",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    FIELD_ERRORS: {
        "type": "object",
        "description": (
            "Each field that is not valid, with its messages; `non_field_errors` "
            "for the request as a whole. A list of objects (an interaction's "
            "`promises`) answers one such object per item, empty for a valid one."
        ),
        "additionalProperties": {
            # The most particular shape first: a generated client tries them in order.
            "anyOf": [
                {"$ref": COMPONENT_PREFIX + FIELD_ERRORS},
                {"type": "array", "items": {"$ref": COMPONENT_PREFIX + FIELD_ERRORS}},
                {"type": "array", "items": {"type": "string"}},
            ]
        },
    },
}


def _ref(name: str) -> dict:
    return {"$ref": COMPONENT_PREFIX + name}


def error_response(description: str) -> OpenApiResponse:
    """An error answer with a ``{"detail"}`` body, for an ``extend_schema(responses=...)``."""
    return OpenApiResponse(_ref(DETAIL), description=description)


def field_errors_response(description: str) -> OpenApiResponse:
    """A 400 with each field's messages, for an ``extend_schema(responses=...)``."""
    return OpenApiResponse(_ref(FIELD_ERRORS), description=description)


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema: error answers, headers, required answers, PATCH bodies."""

    def _idempotent(self) -> bool:
        return self.method == "POST" and isinstance(self.view, idempotency.IdempotentPostMixin)

    def _conditional(self) -> bool:
        return self.method in conditional.CONDITIONAL_METHODS and isinstance(
            self.view, conditional.ConditionalMixin
        )

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self._idempotent():
            parameters.append(
                OpenApiParameter(
                    idempotency.HEADER,
                    {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH},
                    OpenApiParameter.HEADER,
                    description="Any string of yours, up to 255 characters, new for each "
                    "request. Sent again with the same request within 24 hours, it answers "
                    "the first answer (with `Idempotent-Replayed: true`) instead of doing it "
                    "twice; with another request, a 422.",
                )
            )
        if self._conditional():
            parameters.append(
                OpenApiParameter(
                    conditional.IF_MATCH,
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="The `ETag` of the object as you last read it (or `*`): "
                    "if it changed since, the answer is a 412 and nothing changes.",
                )
            )
        return parameters

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        if (
            status_code in ("200", "201")
            and self.method != "DELETE"
            and isinstance(self.view, conditional.ConditionalMixin)
            and not self._is_list_view()
        ):
            headers["ETag"] = {
                "schema": {"type": "string"},
                "description": "The object's version: send it as `If-Match` to change it "
                "only if nobody else did.",
            }
        if status_code.startswith("2") and self._idempotent():
            headers[idempotency.REPLAYED_HEADER] = {
                "schema": {"type": "string", "enum": ["true"]},
                "description": "Present when this is the answer to an earlier request "
                "with the same `Idempotency-Key`, replayed.",
            }
        return headers

    def _get_response_bodies(self, direction="response"):
        for name, schema in ERROR_COMPONENTS.items():
            self.registry.register_on_missing(
                ResolvedComponent(
                    name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name
                )
            )
        responses = super()._get_response_bodies(direction)
        for status, answer in self._error_answers():
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(
                    answer, str(status), direction=direction
                )
        return dict(sorted(responses.items()))

    def _error_answers(self) -> Iterator[tuple[int, OpenApiResponse]]:
        """Each error the operation can answer, from what its view does."""
        has_body = self.method in ("POST", "PUT", "PATCH")
        has_filters = (
            self.method == "GET"
            and self._is_list_view()
            and getattr(self.view, "filterset_class", None) is not None
            and bool(self.get_filter_backends())
        )
        # A path with a variable names one object (spectacular writes a pk as {id}).
        on_one_object = "{" in self.path
        paginated = self._is_list_view() and isinstance(self._get_paginator(), CursorPagination)
        if has_body:
            yield (
                400,
                OpenApiResponse(
                    {"oneOf": [_ref(DETAIL), _ref(FIELD_ERRORS)]},
                    description="The body is not valid: each field's messages, or a `detail` "
                    "when it is not JSON at all. Nothing was written.",
                ),
            )
        elif has_filters or paginated:
            yield (
                400,
                OpenApiResponse(
                    {"oneOf": [_ref(DETAIL), _ref(FIELD_ERRORS)]},
                    description="A filter's value (or `page_size`) is not valid: its messages.",
                ),
            )
        else:
            yield (
                400,
                error_response(
                    "The request is not one this server can read (a `Host` it does not serve)."
                ),
            )
        authenticators = self.view.get_authenticators()
        if authenticators:
            yield 401, error_response("No credentials, or a token that is not valid or revoked.")
        if self.method not in permissions.SAFE_METHODS and self._may_refuse_writes(authenticators):
            yield (
                403,
                error_response(
                    "Your role may not do this (or a signed-in session sent no CSRF token)."
                ),
            )
        if on_one_object or paginated:
            yield (
                404,
                error_response(
                    " ".join(
                        text
                        for text, applies in (
                            ("Not found, or not yours to see.", on_one_object),
                            ("The cursor is not one this list gave out.", paginated),
                        )
                        if applies
                    )
                ),
            )
        if has_body:
            yield (
                415,
                error_response("The body is not JSON: send `Content-Type: application/json`."),
            )
        if self._conditional():
            yield 412, error_response("It changed since the ETag sent as `If-Match`.")
        if has_body:
            yield 413, error_response("The body is larger than this server accepts.")
        if self._idempotent():
            yield (
                422,
                error_response("This `Idempotency-Key` was sent before with a different request."),
            )
        if self.view.get_throttles():
            yield (
                429,
                error_response("Too many requests: wait as long as the detail says, then retry."),
            )

    def _may_refuse_writes(self, authenticators) -> bool:
        """A write is refused when the role forbids it, or a session sends no CSRF token."""
        open_to_all = all(
            isinstance(p, (permissions.AllowAny, permissions.IsAuthenticated))
            for p in self.view.get_permissions()
        )
        uses_session = any(isinstance(a, SessionAuthentication) for a in authenticators)
        return uses_session or not open_to_all

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        properties = schema.get("properties")
        if not properties:
            return schema
        if direction == "response":
            # Every answer writes every property it documents (null where it has no value);
            # a serializer names in ``answer_optional`` any that some answers leave out.
            optional = getattr(serializer, "answer_optional", ())
            required = [name for name in properties if name not in optional]
            if required:
                schema["required"] = required
            else:
                schema.pop("required", None)
        elif is_patched_serializer(serializer, direction):
            for name in getattr(serializer, "unpatchable", ()):
                properties.pop(name, None)
                if name in schema.get("required", ()):
                    schema["required"].remove(name)
        return schema


def _enum_names(components: dict) -> dict[frozenset, str]:
    return {
        frozenset(schema["enum"]): name
        for name, schema in components.items()
        if "enum" in schema and schema.get("type") == "string"
    }


def _references(node) -> Iterator[str]:
    """The names of the components ``node`` refers to."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(COMPONENT_PREFIX):
            yield ref.removeprefix(COMPONENT_PREFIX)
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def postprocess_schema(result, generator, **kwargs):
    """One name per enum, query parameters included; no component that nothing uses."""
    components = result.get("components", {}).get("schemas", {})
    enums = _enum_names(components)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", ()):
                schema = parameter.get("schema", {})
                holder = schema.get("items", schema) if schema.get("type") == "array" else schema
                name = enums.get(frozenset(holder.get("enum", ())))
                if name is None:
                    continue
                ref = _ref(name)
                if holder is schema:
                    parameter["schema"] = ref
                else:
                    schema["items"] = ref
    # A component is kept when an operation refers to it, directly or through another.
    used = set(_references(result.get("paths", {})))
    pending = list(used)
    while pending:
        for name in set(_references(components.get(pending.pop(), {}))) - used:
            used.add(name)
            pending.append(name)
    for name in list(components):
        if name not in used:
            del components[name]
    return result
