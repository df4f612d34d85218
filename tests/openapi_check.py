"""Every API answer of the suite is checked against the OpenAPI schema of its operation.

Each resource's JSON is written by one function (relcrm/api/rows.py) while its
serializer documents it; this keeps the two agreeing on every answer any test
provokes, rather than on a few hand-made examples. ``check_every_api_answer``
(autouse, registered in tests/conftest.py) wraps Django's test client, which
``APIClient`` builds on: each JSON answer under /api/v1/ is validated against
the schema drf-spectacular generates for its path, method and status, strictly
(every required property present, none undocumented). Every status must be
documented, errors included (``UNDOCUMENTED`` is the place for an exception,
and holds none); tests/test_generated_client.py checks the answers of a live
server the same way.
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

# Error answers the schema does not document, by (method, path template, status):
# none. An answer listed here is not checked; list one only while its
# operation's documentation is being written.
UNDOCUMENTED: frozenset[tuple[str, str, int]] = frozenset()


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

    ``nullable`` becomes a null type; an object allows no property it does not
    document (an answer is exactly what the schema says), and requires what the
    schema requires (every property of an answer: ``relcrm.api.schema``).
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
    if validator is None:
        return
    content_type = response.get("Content-Type", "")
    assert "json" in content_type, (
        f"{method.upper()} {path} answered {status} as {content_type!r}; the schema documents "
        "application/json"
    )
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
