"""schemathesis against the API's own schema: no 5xx, and no answer the schema does not describe.

The schema is the one the app serves at /api/v1/schema/, read through the app
itself; every operation in it is called in-process (WSGI) on the test database,
signed in with a bearer token, with requests generated from the schema: valid
ones, invalid ones (wrong types, missing fields, values out of range) and the
edge cases schemathesis derives from each parameter. Every built-in check runs
on every answer: no server error; a documented status, content type, headers
and body; invalid data refused, valid data accepted; a request without the
token refused.

Valid data may still be refused where the refusal is the API's contract, not
something a schema can say: a body names rows by id and a made-up id names
none (400, worded as for another team's row), a key reused with another body
is a 422, an ``If-Match`` that is not the row's ETag a 412. A filter or a page
size the schema allows is always accepted.

The run is derandomized (the same requests on every run, so CI is repeatable)
and its budget is per operation: ``MAX_EXAMPLES`` generated requests besides
the explicit edge cases. Raise it locally to search harder.
"""

import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings

from accounts.models import ApiToken
from tests.factories import (
    AccountFactory,
    AlertFactory,
    ContactFactory,
    InteractionFactory,
    PromiseFactory,
)

MAX_EXAMPLES = int(os.environ.get("RELCRM_FUZZ_EXAMPLES", "10"))

# What "valid data accepted" accepts, beyond schemathesis' own list (2xx, 3xx, 401, 403,
# 404, 409, 429, 5xx; the 5xx are the not_a_server_error check's to catch).
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
REFUSALS_BY_CONTRACT = {
    "POST": ["400", "422"],  # an id that names no row; a reused Idempotency-Key
    "PATCH": ["400", "412"],  # an id that names no row; a stale If-Match
    "DELETE": ["412"],  # a stale If-Match
}

CONFIG = schemathesis.Config.from_dict(
    {
        "operations": [
            {
                "include-method": method,
                "checks": {
                    "positive_data_acceptance": {"expected-statuses": [*ACCEPTED, *refusals]}
                },
            }
            for method, refusals in REFUSALS_BY_CONTRACT.items()
        ]
    }
)

schema = schemathesis.openapi.from_wsgi(
    "/api/v1/schema/?format=json", get_wsgi_application(), config=CONFIG
)


@pytest.fixture
def token(db, team_a):
    """A lead's bearer token, and rows of each kind in the lead's team for ids to land on.

    Django closes the database connection at the end of each request it serves
    outside a transaction it expects; the test runs in one, so (as Django's test
    client does) the closing is held off while the app serves the fuzzer.
    """
    account = AccountFactory(team=team_a.team, owner=team_a.lead)
    ContactFactory(account=account)
    InteractionFactory(account=account, logged_by=team_a.rep)
    PromiseFactory(account=account, owner=team_a.rep)
    AlertFactory(account=account)
    _, clear = ApiToken.issue(team_a.lead)
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield clear
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    # The token fixture is function-scoped on purpose: one test database per operation.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_as_documented(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})
