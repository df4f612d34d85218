"""Bare Django views: the API's JSON from the same rows, with ``values()`` and ``JsonResponse``.

They are the floor that ``GET /accounts/``, the timeline and the overdue
promises are measured against (docs/architecture.md, "Performance": the API
must serve at least 0.7x their requests per second, at no more than 1.5x
their p95). They do what the API must do and nothing else:
authenticate the bearer token (the same one query), scope to the caller's
team through the same selectors, read one page (one row more, to know there
is a next one), and write the same JSON, which the benchmark checks. No DRF,
no model instances, no serializers. The POST floor writes what
``log_interaction`` writes (the interaction, its promises and their events,
the answer times, the stale mark) in one SQL statement.
"""

import functools
import json

from django.db import connection, transaction
from django.db.models import Q
from django.http import JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from accounts.models import ApiToken
from accounts.selectors import accounts_visible_to
from interactions.models import Interaction
from interactions.selectors import interactions_visible_to
from promises.selectors import promises_visible_to

PAGE_SIZE, MAX_PAGE_SIZE = 50, 200
PROMISE_FIELDS = (
    "id", "account_id", "contact_id", "interaction_id", "owner_id", "description", "due_at",
    "status", "kept_at", "broken_at", "external_id", "created_at",
)  # fmt: skip
INTERACTION_FIELDS = (
    "id", "account_id", "kind", "direction", "occurred_at", "summary", "sentiment",
    "external_id", "logged_by_id", "created_at",
)  # fmt: skip
ACCOUNT_FIELDS = (
    "id", "name", "domain", "owner_id", "team_id", "external_id", "health_score", "health_band",
    "health_confidence", "health_computed_at", "created_at",
)  # fmt: skip


def iso(moment) -> str | None:
    """A time as DRF writes it: ISO 8601 with microseconds, UTC as ``Z``."""
    if moment is None:
        return None
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _caller(request):
    header = request.headers.get("Authorization", "")
    keyword, _, clear = header.partition(" ")
    if keyword.lower() != "bearer":
        return None
    token = ApiToken.find(clear.strip())
    return token.user if token is not None and token.user.is_active else None


def _page_size(request) -> int:
    try:
        return min(MAX_PAGE_SIZE, max(1, int(request.GET.get("page_size", PAGE_SIZE))))
    except ValueError:
        return PAGE_SIZE


def _page(request, rows: list[dict], size: int, shape, at: str | None = None) -> JsonResponse:
    """``{"next", "previous", "results"}`` with a next link keyed on the last id.

    And on the last row's ``at`` column too for a list ordered by it first.
    """
    next_url = None
    if len(rows) > size:
        rows = rows[:size]
        query = request.GET.copy()
        query["before"] = rows[-1]["id"]
        if at is not None:
            query["before_at"] = rows[-1][at].isoformat()
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return JsonResponse({"next": next_url, "previous": None, "results": [shape(r) for r in rows]})


def bearer_required(view):
    """Call ``view(request, user)`` for the token's user; 401 without a valid token."""

    @functools.wraps(view)
    def wrapper(request):
        user = _caller(request)
        if user is None:
            return JsonResponse(
                {"detail": "Authentication credentials were not provided."}, status=401
            )
        return view(request, user)

    return wrapper


def _before(request, queryset):
    before = request.GET.get("before")
    return queryset.filter(id__lt=int(before)) if before else queryset


def _promise(row: dict, now) -> dict:
    kept_at = row["kept_at"]
    return {
        "id": row["id"],
        "account": row["account_id"],
        "contact": row["contact_id"],
        "interaction": row["interaction_id"],
        "owner": row["owner_id"],
        "description": row["description"],
        "due_at": iso(row["due_at"]),
        "status": row["status"],
        "kept_at": iso(kept_at),
        "kept_on_time": None
        if kept_at is None
        else kept_at <= row["due_at"] and row["broken_at"] is None,
        "is_overdue": row["status"] == "open" and row["due_at"] < now,
        "external_id": row["external_id"],
        "created_at": iso(row["created_at"]),
    }


@bearer_required
def accounts(request, user) -> JsonResponse:
    """GET /accounts/ with the denormalised health, newest first."""
    size = _page_size(request)
    queryset = _before(request, accounts_visible_to(user)).order_by("-id")
    rows = list(queryset.values(*ACCOUNT_FIELDS)[: size + 1])

    def shape(row: dict) -> dict:
        health = None
        if row["health_computed_at"] is not None:
            health = {
                "score": row["health_score"],
                "band": row["health_band"],
                "confidence": row["health_confidence"],
                "computed_at": iso(row["health_computed_at"]),
            }
        return {
            "id": row["id"],
            "name": row["name"],
            "domain": row["domain"],
            "owner": row["owner_id"],
            "team": row["team_id"],
            "external_id": row["external_id"],
            "health": health,
            "created_at": iso(row["created_at"]),
        }

    return _page(request, rows, size, shape)


@csrf_exempt
@bearer_required
def interactions(request, user) -> JsonResponse:
    """GET: an account's timeline (``?account=``); POST: log one with its promises."""
    if request.method == "POST":
        return _log_interaction(request, user)
    size = _page_size(request)
    # Newest first by when it happened, as the API's timeline (and its index) orders it.
    queryset = interactions_visible_to(user).order_by("-occurred_at", "-id")
    if request.GET.get("account"):
        queryset = queryset.filter(account_id=int(request.GET["account"]))
    if request.GET.get("before_at"):
        at, pk = parse_datetime(request.GET["before_at"]), int(request.GET["before"])
        queryset = queryset.filter(Q(occurred_at__lt=at) | Q(occurred_at=at, id__lt=pk))
    rows = list(queryset.values(*INTERACTION_FIELDS)[: size + 1])
    ids = [row["id"] for row in rows[:size]]
    contacts: dict[int, list[int]] = {}
    present = (
        Interaction.contacts.through.objects.filter(interaction_id__in=ids)
        .order_by("contact__last_name", "contact__first_name", "contact_id")
        .values_list("interaction_id", "contact_id")
    )
    for interaction_id, contact_id in present:
        contacts.setdefault(interaction_id, []).append(contact_id)
    now = timezone.now()
    promises: dict[int, list[dict]] = {}
    made = (
        promises_visible_to(user)
        .filter(interaction_id__in=ids)
        .order_by("id")
        .values(*PROMISE_FIELDS)
    )
    for row in made:
        promises.setdefault(row["interaction_id"], []).append(_promise(row, now))
    return _page(
        request,
        rows,
        size,
        lambda row: _interaction(row, contacts.get(row["id"], []), promises.get(row["id"], [])),
        at="occurred_at",
    )


def _interaction(row: dict, contacts: list[int], promises: list[dict]) -> dict:
    return {
        "id": row["id"],
        "account": row["account_id"],
        "contacts": contacts,
        "kind": row["kind"],
        "direction": row["direction"],
        "occurred_at": iso(row["occurred_at"]),
        "summary": row["summary"],
        "sentiment": row["sentiment"],
        "external_id": row["external_id"],
        "logged_by": row["logged_by_id"],
        "promises": promises,
        "created_at": iso(row["created_at"]),
    }


@bearer_required
def promises(request, user) -> JsonResponse:
    """GET /promises/?overdue=true: open promises past their due time, newest first."""
    size = _page_size(request)
    now = timezone.now()
    queryset = _before(request, promises_visible_to(user)).order_by("-id")
    if request.GET.get("overdue") == "true":
        queryset = queryset.filter(status="open", due_at__lt=now)
    rows = list(queryset.values(*PROMISE_FIELDS)[: size + 1])
    return _page(request, rows, size, lambda row: _promise(row, now))


# What log_interaction writes, in one statement: the interaction (answered by
# the next outbound one if inbound), its promises and their created events,
# the answer time of the inbound ones an outbound one answers, the stale mark.
LOG_INTERACTION = """
WITH account AS (
    SELECT id FROM accounts_account
    WHERE id = %(account)s AND archived_at IS NULL AND (%(admin)s OR team_id = %(team)s)
), interaction AS (
    INSERT INTO interactions_interaction (kind, direction, occurred_at, summary, sentiment,
        external_id, answered_at, created_at, updated_at, account_id, logged_by_id)
    SELECT %(kind)s, %(direction)s, %(occurred_at)s, %(summary)s, %(sentiment)s, NULL,
        CASE WHEN %(direction)s = 'inbound' THEN (
            SELECT min(o.occurred_at) FROM interactions_interaction o
            WHERE o.account_id = account.id AND o.direction = 'outbound'
              AND o.occurred_at >= %(occurred_at)s) END,
        %(now)s, %(now)s, account.id, %(user)s
    FROM account
    RETURNING id, account_id, kind, direction, occurred_at, summary, sentiment, external_id,
        logged_by_id, created_at
), promises AS (
    INSERT INTO promises_promise (description, due_at, status, broken_disclosed,
        renegotiated_count, repaired_at, created_at, updated_at, account_id, interaction_id,
        owner_id)
    SELECT p.description, p.due_at, 'open', false, 0, NULL, %(now)s, %(now)s, i.account_id,
        i.id, %(user)s
    FROM interaction i, unnest(%(descriptions)s::text[], %(due_ats)s::timestamptz[])
        AS p(description, due_at)
    RETURNING id, account_id, contact_id, interaction_id, owner_id, description, due_at,
        status, kept_at, broken_at, external_id, created_at
), events AS (
    INSERT INTO promises_promiseevent (kind, at, note, new_due_at, by_id, promise_id)
    SELECT 'created', %(now)s, '', due_at, %(user)s, id FROM promises
), answered AS (
    UPDATE interactions_interaction t SET answered_at = i.occurred_at
    FROM interaction i
    WHERE i.direction = 'outbound' AND t.account_id = i.account_id
      AND t.direction = 'inbound' AND t.occurred_at <= i.occurred_at
      AND (t.answered_at IS NULL OR t.answered_at > i.occurred_at)
), stale AS (
    UPDATE accounts_account SET health_stale_at = %(now)s WHERE id IN (SELECT id FROM account)
)
SELECT (SELECT row_to_json(i) FROM interaction i),
    (SELECT coalesce(json_agg(p ORDER BY p.id), '[]') FROM promises p)
"""


def _log_interaction(request, user) -> JsonResponse:
    body = json.loads(request.body)
    now = timezone.now()
    items = body.get("promises", [])
    params = {
        "account": int(body["account"]),
        "admin": user.is_superuser,
        "team": user.team_id,
        "user": user.pk,
        "kind": body["kind"],
        "direction": body["direction"],
        "occurred_at": parse_datetime(body["occurred_at"]),
        "summary": body.get("summary", ""),
        "sentiment": body.get("sentiment"),
        "now": now,
        "descriptions": [item["description"] for item in items],
        "due_ats": [parse_datetime(item["due_at"]) for item in items],
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(LOG_INTERACTION, params)
        interaction, promises = cursor.fetchone()
    if interaction is None:
        return JsonResponse({"account": ["Invalid pk - object does not exist."]}, status=400)
    # row_to_json writes times as PostgreSQL does; reparse them to write them as DRF does.
    for row in (interaction, *promises):
        for name in ("occurred_at", "created_at", "due_at", "kept_at", "broken_at"):
            if row.get(name):
                row[name] = parse_datetime(row[name])
    made = [_promise(row, now) for row in promises]
    return JsonResponse(_interaction(interaction, [], made), status=201)
