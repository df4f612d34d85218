"""/api/v1/schema/ and /api/v1/docs/: the documented API, readable without internet."""

import re

import pytest
from django.http import JsonResponse
from django.urls import path as url_path
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework import generics, serializers
from rest_framework.test import APIClient

from tests.openapi_check import UNDOCUMENTED, check_answer

DOCUMENTED_PATHS = [
    "/api/v1/auth/token/",
    "/api/v1/teams/",
    "/api/v1/users/",
    "/api/v1/accounts/",
    "/api/v1/accounts/{id}/",
    "/api/v1/contacts/",
    "/api/v1/contacts/{id}/",
    "/api/v1/interactions/",
    "/api/v1/interactions/{id}/",
    "/api/v1/promises/",
    "/api/v1/promises/{id}/",
    "/api/v1/promises/{id}/keep/",
    "/api/v1/promises/{id}/renegotiate/",
    "/api/v1/promises/{id}/break/",
    "/api/v1/promises/{id}/release/",
    "/api/v1/promises/{id}/events/",
    "/api/v1/alerts/",
    "/api/v1/alerts/{id}/",
    "/api/v1/alerts/{id}/acknowledge/",
    "/api/v1/alerts/{id}/resolve/",
]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        answer = APIClient().get("/api/v1/schema/", {"format": "json"})
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_the_schema_is_a_valid_openapi_3_document(schema):
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")


@pytest.mark.parametrize("path", DOCUMENTED_PATHS)
def test_every_endpoint_is_documented(schema, path):
    assert path in schema["paths"]


def test_the_bearer_token_is_the_documented_way_in(schema):
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from POST /api/v1/auth/token/ or `manage.py createapitoken`.",
    }


def test_id_filters_are_documented_as_integers(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/promises/"]["get"]["parameters"]}
    assert parameters["account"]["schema"]["type"] == "integer"
    assert parameters["owner"]["schema"]["type"] == "integer"


def test_the_docs_page_loads_every_asset_from_this_server(db):
    client = APIClient()
    page = client.get("/api/v1/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, "the docs page references no assets"
    assert "://" not in " ".join(assets)
    for url in assets:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert b"".join(asset.streaming_content if asset.streaming else [asset.content])


def _answer(status: int, body) -> JsonResponse:
    return JsonResponse(body, status=status, safe=False)


def test_every_answer_is_held_to_its_operations_schema():
    team = {"id": 1, "name": "North", "created_at": "2026-01-02T03:04:05Z"}
    check_answer("get", "/api/v1/teams/1/", _answer(200, team))  # as documented

    for wrong in ({**team, "extra": 1}, {"id": 1, "name": "North"}, {**team, "id": "1"}):
        with pytest.raises(pytest.fail.Exception, match="does not allow"):
            check_answer("get", "/api/v1/teams/1/", _answer(200, wrong))


def test_an_undocumented_status_fails_and_an_error_is_held_to_its_schema_too():
    with pytest.raises(AssertionError, match="answered 202, undocumented"):
        check_answer("get", "/api/v1/teams/1/", _answer(202, {}))
    with pytest.raises(AssertionError, match="does not document"):
        check_answer("get", "/api/v1/teams/1/", _answer(418, {}))
    assert not UNDOCUMENTED, "every error answer the suite receives is documented"

    check_answer("get", "/api/v1/teams/1/", _answer(404, {"detail": "Not found."}))
    with pytest.raises(pytest.fail.Exception, match="does not allow"):
        check_answer("get", "/api/v1/teams/1/", _answer(404, {"message": "Not found."}))


def _operations(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield method, path, operation


def test_the_api_root_links_to_the_api(rep_client):
    links = rep_client.get("/api/v1/").json()

    assert {"accounts", "contacts", "interactions", "promises", "alerts"} <= set(links)
    for name, url in links.items():
        assert url.startswith("http://testserver/api/v1/"), (name, url)


def test_request_bodies_are_json_only(schema, rep_client):
    # The one upload: a CSV import, whose body is the file's bytes.
    upload = {("post", "/api/v1/imports/"): ["application/octet-stream"]}
    for method, path, operation in _operations(schema):
        if "requestBody" in operation:
            content = list(operation["requestBody"]["content"])
            assert content == upload.get((method, path), ["application/json"]), (method, path)

    form = rep_client.post("/api/v1/accounts/", {"name": "Acme"}, format="multipart")
    assert form.status_code == 415
    assert "detail" in form.json()


def test_every_operation_documents_the_errors_its_view_can_answer(schema):
    for method, path, operation in _operations(schema):
        statuses = set(operation["responses"])
        assert "401" in statuses, (method, path)
        if method in ("post", "patch"):
            assert {"400", "403", "415"} <= statuses, (method, path)
        if "{id}" in path:
            assert "404" in statuses, (method, path)
        if path != "/api/v1/auth/token/" or method == "post":
            assert "429" in statuses, (method, path)
    transitions = [
        path
        for method, path, _ in _operations(schema)
        if method == "post" and re.search(r"\{id\}/[a-z]+/$", path)
    ]
    assert len(transitions) == 6
    for path in transitions:
        assert "409" in schema["paths"][path]["post"]["responses"], path
    # A list answers 400 for a filter value it cannot read.
    assert "400" in schema["paths"]["/api/v1/promises/"]["get"]["responses"]


def _body(operation, status):
    return operation["responses"][status]["content"]["application/json"]["schema"]


def test_error_bodies_are_typed(schema):
    keep = schema["paths"]["/api/v1/promises/{id}/keep/"]["post"]
    detail = {"$ref": "#/components/schemas/ErrorDetail"}
    for status in ("401", "403", "404", "409", "415", "429"):
        assert _body(keep, status) == detail, status
    assert _body(keep, "400") == {"oneOf": [detail, {"$ref": "#/components/schemas/FieldErrors"}]}
    assert schema["components"]["schemas"]["ErrorDetail"]["required"] == ["detail"]


def test_the_replay_of_an_external_id_is_documented(schema):
    create = schema["paths"]["/api/v1/interactions/"]["post"]["responses"]
    assert create["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Interaction"
    }
    assert "201" in create


def test_one_name_per_enum(schema):
    components = schema["components"]["schemas"]
    enums = {name: frozenset(c["enum"]) for name, c in components.items() if "enum" in c}
    assert len(set(enums.values())) == len(enums), enums
    for method, path, operation in _operations(schema):
        for parameter in operation.get("parameters", ()):
            assert "enum" not in parameter["schema"], (method, path, parameter["name"])
    band = schema["paths"]["/api/v1/accounts/"]["get"]["parameters"]
    assert {"$ref": "#/components/schemas/HealthBandEnum"} in [p["schema"] for p in band]


def test_every_property_of_an_answer_is_required(schema):
    for name, component in schema["components"]["schemas"].items():
        if name.endswith("Request") or "properties" not in component:
            continue
        assert component.get("required") == list(component["properties"]), name


def test_patch_bodies_list_only_what_a_patch_may_change(schema):
    components = schema["components"]["schemas"]

    def patchable(name):
        return set(components[name]["properties"])

    assert patchable("PatchedPromiseRequest") == {"contact", "description"}
    assert patchable("PatchedContactRequest") == {
        "first_name", "last_name", "email", "phone", "title", "external_id",
    }  # fmt: skip
    assert patchable("PatchedInteractionRequest") == {
        "contacts", "kind", "direction", "occurred_at", "summary", "sentiment",
    }  # fmt: skip
    assert patchable("PatchedAccountRequest") == {"name", "domain", "owner", "team", "external_id"}


def _descriptions(node, where=""):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                yield where, value
            else:
                yield from _descriptions(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _descriptions(item, f"{where}[{index}]")


def test_every_operation_is_described_for_the_people_who_call_it(schema):
    for method, path, operation in _operations(schema):
        assert operation.get("description", "").strip(), (method, path)
    # Written for readers of the API, not of its code: Markdown, no reST, no internals.
    for where, text in _descriptions(schema):
        assert "``" not in text, (where, text)
        assert not re.search(r"serializer|values\(|_json\b", text, re.IGNORECASE), (where, text)


def _headers(operation):
    return {p["name"] for p in operation.get("parameters", ()) if p["in"] == "header"}


def test_every_post_takes_an_idempotency_key_and_documents_its_replay(schema):
    for method, path, operation in _operations(schema):
        if method != "post" or path == "/api/v1/auth/token/":  # its answer is a secret
            continue
        if path == "/api/v1/imports/":  # a file of any size; a re-import creates nothing new
            continue
        assert "Idempotency-Key" in _headers(operation), path
        assert "422" in operation["responses"], path
        for status, answer in operation["responses"].items():
            if status.startswith("2"):
                assert "Idempotent-Replayed" in answer["headers"], (path, status)


def test_every_detail_carries_an_etag_and_every_change_takes_if_match(schema):
    for method, path, operation in _operations(schema):
        if method in ("patch", "delete") and path != "/api/v1/auth/token/":
            assert "If-Match" in _headers(operation), (method, path)
            assert "412" in operation["responses"], (method, path)
        if (
            method in ("get", "patch", "post")
            and "{id}" in path
            and not path.endswith(("/events/", "/history/"))
        ):
            assert "ETag" in operation["responses"]["200"].get("headers", {}), (method, path)


def test_a_serializer_may_name_the_properties_some_answers_leave_out():
    class SecretSerializer(serializers.Serializer):
        answer_optional = ("secret",)
        id = serializers.IntegerField(read_only=True)
        secret = serializers.CharField(read_only=True)

    class SecretView(generics.RetrieveAPIView):
        serializer_class = SecretSerializer

    patterns = [url_path("api/v1/secrets/<int:pk>/", SecretView.as_view())]
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)

    assert schema["components"]["schemas"]["Secret"]["required"] == ["id"]
