"""Every API answer of the suite is checked against the OpenAPI schema of its operation.

Each resource's JSON is written by one function (relcrm/api/rows.py) while its
serializer documents it; this keeps the two agreeing on every answer any test
provokes, rather than on a few hand-made examples. ``check_every_api_answer``
(autouse, registered in tests/conftest.py) wraps Django's test client, which
``APIClient`` builds on: each JSON answer under /api/v1/ is validated against
the schema drf-spectacular generates for its path, method and status, strictly
(every documented property present, none undocumented). A 2xx answer must be
documented; an error status the schema does not document yet must be listed in
``UNDOCUMENTED``.
"""

import json
import re
from functools import cache

import jsonschema
import pytest
from django.test.client import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

API_PREFIX = "/api/v1/"

# Error answers the schema does not document yet, by (method, path template,
# status). Documenting the API's error statuses is issue 16; until then they
# are listed here rather than failing, and their bodies are not checked.
UNDOCUMENTED = frozenset(
    {
        ("get", "/api/v1/accounts/", 400),
        ("get", "/api/v1/accounts/", 401),
        ("post", "/api/v1/accounts/", 400),
        ("post", "/api/v1/accounts/", 415),
        ("delete", "/api/v1/accounts/{id}/", 404),
        ("get", "/api/v1/accounts/{id}/", 404),
        ("patch", "/api/v1/accounts/{id}/", 400),
        ("patch", "/api/v1/accounts/{id}/", 404),
        ("get", "/api/v1/accounts/{id}/health/", 401),
        ("get", "/api/v1/accounts/{id}/health/", 404),
        ("get", "/api/v1/accounts/{id}/health/history/", 404),
        ("get", "/api/v1/alerts/", 400),
        ("get", "/api/v1/alerts/", 401),
        ("get", "/api/v1/alerts/{id}/", 404),
        ("post", "/api/v1/alerts/{id}/acknowledge/", 400),
        ("post", "/api/v1/alerts/{id}/acknowledge/", 403),
        ("post", "/api/v1/alerts/{id}/acknowledge/", 404),
        ("post", "/api/v1/alerts/{id}/acknowledge/", 409),
        ("post", "/api/v1/alerts/{id}/resolve/", 400),
        ("post", "/api/v1/alerts/{id}/resolve/", 403),
        ("post", "/api/v1/alerts/{id}/resolve/", 404),
        ("post", "/api/v1/alerts/{id}/resolve/", 409),
        ("post", "/api/v1/auth/token/", 400),
        ("post", "/api/v1/auth/token/", 415),
        ("post", "/api/v1/auth/token/", 429),
        ("get", "/api/v1/contacts/", 401),
        ("post", "/api/v1/contacts/", 400),
        ("delete", "/api/v1/contacts/{id}/", 404),
        ("get", "/api/v1/contacts/{id}/", 404),
        ("patch", "/api/v1/contacts/{id}/", 400),
        ("patch", "/api/v1/contacts/{id}/", 404),
        ("get", "/api/v1/interactions/", 400),
        ("get", "/api/v1/interactions/", 401),
        ("post", "/api/v1/interactions/", 400),
        ("get", "/api/v1/interactions/{id}/", 404),
        ("patch", "/api/v1/interactions/{id}/", 400),
        ("patch", "/api/v1/interactions/{id}/", 404),
        ("get", "/api/v1/promises/", 400),
        ("get", "/api/v1/promises/", 401),
        ("post", "/api/v1/promises/", 400),
        ("get", "/api/v1/promises/{id}/", 404),
        ("patch", "/api/v1/promises/{id}/", 400),
        ("patch", "/api/v1/promises/{id}/", 404),
        ("post", "/api/v1/promises/{id}/break/", 400),
        ("post", "/api/v1/promises/{id}/break/", 404),
        ("post", "/api/v1/promises/{id}/break/", 409),
        ("get", "/api/v1/promises/{id}/events/", 404),
        ("post", "/api/v1/promises/{id}/keep/", 400),
        ("post", "/api/v1/promises/{id}/keep/", 404),
        ("post", "/api/v1/promises/{id}/keep/", 409),
        ("post", "/api/v1/promises/{id}/release/", 400),
        ("post", "/api/v1/promises/{id}/release/", 404),
        ("post", "/api/v1/promises/{id}/release/", 409),
        ("post", "/api/v1/promises/{id}/renegotiate/", 400),
        ("post", "/api/v1/promises/{id}/renegotiate/", 404),
        ("post", "/api/v1/promises/{id}/renegotiate/", 409),
        ("get", "/api/v1/teams/", 401),
        ("post", "/api/v1/teams/", 400),
        ("post", "/api/v1/teams/", 403),
        ("get", "/api/v1/teams/{id}/", 404),
        ("get", "/api/v1/users/", 401),
        ("post", "/api/v1/users/", 400),
        ("post", "/api/v1/users/", 403),
        ("get", "/api/v1/users/{id}/", 404),
    }
)


@cache
def _schema() -> dict:
    """The schema as /api/v1/schema/ serves it, as plain JSON."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document, renderer_context={}))


@cache
def _routes() -> list[tuple[re.Pattern, str]]:
    """Each documented path as a pattern, literal paths before templated ones."""
    routes = []
    for template in _schema()["paths"]:
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        routes.append((re.compile(f"^{pattern}$"), template))
    return sorted(routes, key=lambda route: route[1].count("{"))


def _strict(node):
    """A JSON Schema for a response body, from OpenAPI 3.0's dialect.

    ``nullable`` becomes a null type; an object requires every property it
    documents, except write-only ones, and allows no other (an answer is
    exactly what the schema says).
    """
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _strict(value) for key, value in node.items()}
    if node.get("type") == "object" and "properties" in node:
        properties = {
            name: value
            for name, value in node["properties"].items()
            if not (isinstance(value, dict) and value.get("writeOnly"))
        }
        node["properties"] = properties
        node["required"] = sorted(properties)
        node.setdefault("additionalProperties", False)
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


@cache
def _validator(template: str, method: str, status: str):
    """A validator of the JSON body documented for the operation and status, or None."""
    document = _schema()
    answer = document["paths"][template][method]["responses"][status]
    body = answer.get("content", {}).get("application/json", {}).get("schema")
    if body is None:
        return None
    components = {"schemas": _strict(document["components"]["schemas"])}
    return jsonschema.Draft202012Validator(
        {**_strict(body), "components": components}, format_checker=jsonschema.FormatChecker()
    )


def check_answer(method: str, path: str, response) -> None:
    """Fail with what differs when ``response`` is not the documented answer."""
    template = next((t for pattern, t in _routes() if pattern.match(path)), None)
    if template is None:
        return  # not an operation of the API (a 404 of an unknown URL, the docs' assets)
    operation = _schema()["paths"][template].get(method)
    if operation is None:
        return  # a method the endpoint does not offer: DRF's 405
    status = response.status_code
    documented = operation["responses"]
    if str(status) not in documented:
        assert not 200 <= status < 300, (
            f"{method.upper()} {template} answered {status}, undocumented"
        )
        assert (method, template, status) in UNDOCUMENTED, (
            f"{method.upper()} {template} answered {status}, which the schema does not document: "
            f"document it, or list {(method, template, status)!r} in UNDOCUMENTED"
        )
        return
    validator = _validator(template, method, str(status))
    if validator is None or "json" not in response.get("Content-Type", ""):
        return
    body = json.loads(response.content)
    errors = sorted(validator.iter_errors(body), key=lambda error: list(error.absolute_path))
    if errors:
        where = "/".join(map(str, errors[0].absolute_path)) or "(body)"
        pytest.fail(
            f"{method.upper()} {path} answered {status} with a body the schema of "
            f"{template} does not allow, at {where}: {errors[0].message}",
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def check_every_api_answer(monkeypatch):
    """Validate every answer the test client gets from /api/v1/ (see the module's docstring)."""
    request = Client.request

    def checked(self, **environ):
        response = request(self, **environ)
        path = environ.get("PATH_INFO", "")
        if path.startswith(API_PREFIX) and not getattr(response, "streaming", False):
            check_answer(environ.get("REQUEST_METHOD", "GET").lower(), path, response)
        return response

    monkeypatch.setattr(Client, "request", checked)
