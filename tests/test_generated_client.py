"""A client generated from the live schema works as generated: the README's walkthrough through it.

openapi-python-client (pinned in requirements-dev.txt) builds a typed client
from /api/v1/schema/ of a running server; the test imports it and walks
through what an integration does on its first day, error answers included,
each answered with the model its status documents. Every answer is also held
to the schema (tests/openapi_check.py), as the test client's are.
"""

import importlib
import subprocess
import sys
from contextlib import ExitStack
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from promises.models import Alert
from tests.factories import PASSWORD, AccountFactory
from tests.openapi_check import check_answer

PACKAGE = "relcrm_client"


class _Answer:
    """An httpx response as ``check_answer`` reads a Django one."""

    def __init__(self, response):
        self.status_code = response.status_code
        self.content = response.content
        self.headers = response.headers

    def get(self, name, default=None):
        return self.headers.get(name, default)


def _check(response):
    response.read()
    check_answer(response.request.method.lower(), response.request.url.path, _Answer(response))


@pytest.fixture
def generated(live_server, tmp_path, monkeypatch):
    """The generated package, imported; what the generator printed is checked first."""
    config = tmp_path / "config.yaml"
    # No formatting hooks: they need tools on PATH, and the code runs the same unformatted.
    config.write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n")
    run = subprocess.run(
        [
            sys.executable, "-m", "openapi_python_client", "generate",
            "--url", f"{live_server.url}/api/v1/schema/?format=json",
            "--meta", "none", "--config", str(config),
            "--output-path", str(tmp_path / PACKAGE),
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    printed = run.stdout + run.stderr
    assert run.returncode == 0, printed
    assert "warning" not in printed.lower(), printed
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


@pytest.fixture
def connections():
    """Closes every client at the end: the server's threads then let go of the database."""
    with ExitStack() as stack:
        yield stack


def test_the_readme_walkthrough_runs_through_a_generated_client(
    generated, connections, live_server, team_a, team_b
):
    api = importlib.import_module(f"{PACKAGE}.api")
    models = importlib.import_module(f"{PACKAGE}.models")
    client_module = importlib.import_module(f"{PACKAGE}.client")
    for name in (
        "auth.auth_token_create", "auth.auth_tokens_list", "auth.auth_tokens_destroy",
        "accounts.accounts_create", "accounts.accounts_retrieve",
        "accounts.accounts_list", "accounts.accounts_health_retrieve",
        "accounts.accounts_health_history_list", "accounts.accounts_partial_update",
        "contacts.contacts_create",
        "interactions.interactions_create", "promises.promises_create",
        "promises.promises_keep_create", "promises.promises_break_create",
        "promises.promises_list", "promises.promises_events_list", "alerts.alerts_list",
        "alerts.alerts_acknowledge_create", "alerts.alerts_resolve_create",
    ):  # fmt: skip
        importlib.import_module(f"{PACKAGE}.api.{name}")
    hooks = {"event_hooks": {"response": [_check]}}
    anonymous = connections.enter_context(
        client_module.Client(base_url=live_server.url, httpx_args=hooks)
    )

    def signed_in(username):
        answer = api.auth.auth_token_create.sync_detailed(
            client=anonymous,
            body=models.TokenRequestRequest(username=username, password=PASSWORD),
        )
        assert answer.status_code == HTTPStatus.OK
        assert isinstance(answer.parsed, models.Token)
        return connections.enter_context(
            client_module.AuthenticatedClient(
                base_url=live_server.url, token=answer.parsed.token, httpx_args=hooks
            )
        )

    rep, lead = signed_in(team_a.rep.username), signed_in(team_a.lead.username)

    # An account and a contact.
    account = api.accounts.accounts_create.sync(
        client=rep,
        body=models.AccountRequest(name="Harbour Freight", domain="harbourfreight.example"),
    )
    assert isinstance(account, models.Account)
    assert account.owner == team_a.rep.pk and account.team == team_a.team.pk
    assert account.health is None
    contact = api.contacts.contacts_create.sync(
        client=rep,
        body=models.ContactRequest(account=account.id, first_name="Ana", last_name="Silva"),
    )
    assert isinstance(contact, models.Contact)

    # A call with two promises, and its replay (the same external id).
    now = timezone.now()
    call = models.InteractionRequest(
        account=account.id,
        contacts=[contact.id],
        kind=models.InteractionKindEnum.CALL,
        direction=models.DirectionEnum.OUTBOUND,
        occurred_at=now - timedelta(minutes=15),
        sentiment=1,
        summary="Renewal call with Ana",
        external_id="call-1",
        promises=[
            models.NestedPromiseRequest(
                description="Send the revised quote",
                due_at=now + timedelta(days=3),
                contact=contact.id,
            ),
            models.NestedPromiseRequest(
                description="Book the onboarding workshop", due_at=now + timedelta(days=10)
            ),
        ],
    )
    logged = api.interactions.interactions_create.sync_detailed(
        client=rep, body=call, idempotency_key="log-call-1"
    )
    assert logged.status_code == HTTPStatus.CREATED
    assert isinstance(logged.parsed, models.Interaction)
    quote, workshop = logged.parsed.promises
    assert quote.status == models.PromiseStatusEnum.OPEN and quote.contact == contact.id
    # A retry with the same key replays the first answer; without it, the external id
    # already logged answers that interaction (200).
    retried = api.interactions.interactions_create.sync_detailed(
        client=rep, body=call, idempotency_key="log-call-1"
    )
    assert retried.status_code == HTTPStatus.CREATED
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert retried.parsed == logged.parsed
    replay = api.interactions.interactions_create.sync_detailed(client=rep, body=call)
    assert replay.status_code == HTTPStatus.OK
    assert isinstance(replay.parsed, models.Interaction)
    assert replay.parsed.id == logged.parsed.id
    reused = api.interactions.interactions_create.sync_detailed(
        client=rep, body=models.InteractionRequest.from_dict({**call.to_dict(), "sentiment": 2}),
        idempotency_key="log-call-1",
    )  # fmt: skip
    assert reused.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert isinstance(reused.parsed, models.ErrorDetail)

    # An edit that holds only if nobody changed the account since it was read.
    read = api.accounts.accounts_retrieve.sync_detailed(account.id, client=rep)
    renamed = api.accounts.accounts_partial_update.sync_detailed(
        account.id, client=rep, body=models.PatchedAccountRequest(name="Harbour Freight Ltd"),
        if_match=read.headers["ETag"],
    )  # fmt: skip
    assert renamed.status_code == HTTPStatus.OK
    stale = api.accounts.accounts_partial_update.sync_detailed(
        account.id, client=rep, body=models.PatchedAccountRequest(name="Harbour"),
        if_match=read.headers["ETag"],
    )  # fmt: skip
    assert stale.status_code == HTTPStatus.PRECONDITION_FAILED
    assert isinstance(stale.parsed, models.ErrorDetail)

    # Keep, keep again (409), break.
    kept = api.promises.promises_keep_create.sync(quote.id, client=rep, body=models.KeepRequest())
    assert isinstance(kept, models.Promise) and kept.kept_on_time is True
    again = api.promises.promises_keep_create.sync_detailed(
        quote.id, client=rep, body=models.KeepRequest()
    )
    assert again.status_code == HTTPStatus.CONFLICT
    assert isinstance(again.parsed, models.ErrorDetail)
    assert again.parsed.detail == "A kept promise cannot be kept."
    broken = api.promises.promises_break_create.sync(
        workshop.id, client=rep, body=models.NoteRequest(note="Our trainer left; told Ana.")
    )
    assert isinstance(broken, models.Promise)
    assert broken.status == models.PromiseStatusEnum.BROKEN

    # A foreign key the caller may not see is a 400 on that field.
    elsewhere = AccountFactory(team=team_b.team, owner=team_b.rep)
    refused = api.contacts.contacts_create.sync_detailed(
        client=rep, body=models.ContactRequest(account=elsewhere.pk, first_name="Eve")
    )
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert isinstance(refused.parsed, models.FieldErrors)
    assert refused.parsed["account"] == [f'Invalid pk "{elsewhere.pk}" - object does not exist.']

    # The overdue list, the promise's history, the account's health and its history.
    late = api.promises.promises_create.sync(
        client=rep,
        body=models.PromiseRequest(
            account=account.id, description="Call back", due_at=now - timedelta(hours=1)
        ),
    )
    overdue = api.promises.promises_list.sync(client=rep, overdue=True)
    assert isinstance(overdue, models.PaginatedPromiseList)
    assert [p.id for p in overdue.results] == [late.id]
    assert overdue.results[0].is_overdue is True
    events = api.promises.promises_events_list.sync(workshop.id, client=rep)
    assert [e.kind for e in events.results] == [
        models.PromiseEventKindEnum.CREATED,
        models.PromiseEventKindEnum.BROKEN,
    ]
    health = api.accounts.accounts_health_retrieve.sync(account.id, client=rep)
    assert isinstance(health, models.Health)
    assert 0 <= health.score <= 100 and isinstance(health.band, models.HealthBandEnum)
    assert health.explanation and isinstance(health.explanation[0], models.Fact)
    history = api.accounts.accounts_health_history_list.sync(account.id, client=rep)
    assert [snapshot.id for snapshot in history.results] == [health.id]

    # The broken promise's alert: a rep may not resolve it; the lead acknowledges and resolves.
    alerts = api.alerts.alerts_list.sync(
        client=lead,
        account=account.id,
        kind=models.AlertKindEnum.PROMISE_BROKEN,
        status=models.AlertStatusEnum.OPEN,
    )
    (alert,) = alerts.results
    assert alert.promise == workshop.id
    forbidden = api.alerts.alerts_resolve_create.sync_detailed(
        alert.id, client=rep, body=models.ResolveRequest(note="Done")
    )
    assert forbidden.status_code == HTTPStatus.FORBIDDEN
    assert isinstance(forbidden.parsed, models.ErrorDetail)
    acknowledged = api.alerts.alerts_acknowledge_create.sync(
        alert.id, client=lead, body=models.AcknowledgeRequest()
    )
    assert acknowledged.status == models.AlertStatusEnum.ACKNOWLEDGED
    resolved = api.alerts.alerts_resolve_create.sync(
        alert.id, client=lead, body=models.ResolveRequest(note="Recorded videos suit her team.")
    )
    assert resolved.status == models.AlertStatusEnum.RESOLVED
    assert Alert.objects.get(pk=alert.id).resolved_by == team_a.lead

    # What another team has is not found; without a token, nothing is answered.
    missing = api.accounts.accounts_retrieve.sync_detailed(elsewhere.pk, client=rep)
    assert missing.status_code == HTTPStatus.NOT_FOUND
    assert isinstance(missing.parsed, models.ErrorDetail)
    unsigned = api.accounts.accounts_list.sync_detailed(client=anonymous)
    assert unsigned.status_code == HTTPStatus.UNAUTHORIZED
    assert isinstance(unsigned.parsed, models.ErrorDetail)

    # A read-only token with a lifetime: listed among the rep's tokens, refused a write.
    issued = api.auth.auth_token_create.sync(
        client=anonymous,
        body=models.TokenRequestRequest(
            username=team_a.rep.username, password=PASSWORD, name="BI export",
            expires_in_days=30, scope=models.ScopeEnum.READ,
        ),
    )  # fmt: skip
    reader = connections.enter_context(
        client_module.AuthenticatedClient(
            base_url=live_server.url, token=issued.token, httpx_args=hooks
        )
    )
    tokens = api.auth.auth_tokens_list.sync(client=reader)
    assert isinstance(tokens, models.PaginatedApiTokenList)
    (listed, *_) = tokens.results
    assert (listed.name, listed.scope) == ("BI export", models.ScopeEnum.READ)
    assert issued.token.startswith(listed.prefix)
    read_only = api.contacts.contacts_create.sync_detailed(
        client=reader, body=models.ContactRequest(account=account.id, first_name="Rui")
    )
    assert read_only.status_code == HTTPStatus.FORBIDDEN
    assert isinstance(read_only.parsed, models.ErrorDetail)
    revoked = api.auth.auth_tokens_destroy.sync_detailed(listed.id, client=rep)
    assert revoked.status_code == HTTPStatus.NO_CONTENT
    assert api.accounts.accounts_list.sync_detailed(client=reader).status_code == 401
