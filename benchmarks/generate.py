"""``make bench-data``: write the reference data set into PostgreSQL.

The data set is the one of docs/architecture.md, "Performance".

Usage: ``SCALE=0.1 python -m benchmarks.generate`` (``DATABASE_URL`` must name
a PostgreSQL database; its project tables are emptied first).

Why plain SQL and not the ORM or the factories: five million interactions
through ``bulk_create`` take many minutes, and the point of the data set is to
exist, not to exercise the write path (the benchmarks do that). Every row is
made set-based with ``INSERT ... SELECT`` over ``generate_series`` into the
project's own tables, with their check constraints in force, so a row the
domain forbids cannot be written. The whole load is one transaction: if it
fails, the database is as it was.

How it stays fast: secondary indexes, unique and foreign-key constraints of
the bulk tables are dropped before the load and re-created after it from
their catalogued definitions (a sorted index build and one validating join per
foreign key, instead of millions of per-row index inserts and deferred
trigger checks). Interactions are first generated account by account into a
temporary table (so ``answered_at`` is a window over one account and progress
can be shown), then written in time order, which is the physical order a real
table has after five years of logging.

The shape of the data (docs/architecture.md, "Performance"): the top 1% of
accounts hold about 30% of the interactions and account 1 holds 5,000; activity grows over the five
years; promises are in every status, about 5% of the open ones past due, with
the fields, events and alerts the services would have written.
"""

import os
import sys
import time
from datetime import datetime, timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relcrm.settings")
django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.management.color import no_style  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Account, Contact, Team, User  # noqa: E402
from benchmarks.dataset import (  # noqa: E402
    HEAVY_ACCOUNT_ID,
    HISTORY_YEARS,
    TOP_SHARE,
    Sizes,
    create_database_if_missing,
    require_postgres,
    scale_from_env,
)
from interactions.models import Interaction  # noqa: E402
from promises.models import Alert, Promise, PromiseEvent  # noqa: E402
from trust.model import DEFAULT_PARAMS  # noqa: E402
from trust.models import TrustSnapshot  # noqa: E402

# Every password is this one (hashed once): the API is called with tokens, but
# a person exploring the data set can still sign in.
BENCH_PASSWORD = "bench-password-1"

# Tables whose indexes and constraints are dropped during the load.
BULK_TABLES = [
    "accounts_account",
    "accounts_contact",
    "interactions_interaction",
    "interactions_interaction_contacts",
    "promises_promise",
    "promises_promiseevent",
    "promises_alert",
]

FIRST_NAMES = [
    "Ada", "Alan", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis",
    "Frances", "John", "Katherine", "Tim", "Radia", "Edsger", "Hedy", "Claude",
]  # fmt: skip
LAST_NAMES = [
    "Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov",
    "Ritchie", "Allen", "Backus", "Johnson", "Berners-Lee", "Perlman", "Dijkstra",
    "Lamarr", "Shannon",
]  # fmt: skip
COMPANIES = [
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Tyrell", "Cyberdyne",
    "Soylent", "Hooli", "Vandelay", "Wonka", "Oceanic", "Aperture", "Nakatomi", "Virtucon",
]  # fmt: skip
COMPANY_SUFFIXES = ["Ltd", "GmbH", "Inc", "SA", "BV", "AB", "Oy", "plc"]
TITLES = ["CEO", "CTO", "CFO", "Head of procurement", "Buyer", "Office manager", "Engineer"]
SUMMARIES = [
    "Discussed the renewal", "Sent the revised quote", "Demo of the new module",
    "Follow-up on the open ticket", "Quarterly review", "Question about pricing",
    "Onboarding call", "Complaint about a late delivery", "Asked for references",
    "Thanked us for the quick fix", "Contract negotiation", "Introduced a new contact",
]  # fmt: skip
DESCRIPTIONS = [
    "Send the revised quote", "Call back with the delivery date",
    "Share the security questionnaire", "Fix the invoice address",
    "Arrange a demo for the team", "Send the signed contract", "Confirm the discount",
    "Deliver the spare parts", "Follow up on the support ticket",
    "Send the training material",
]  # fmt: skip
KINDS = ["email", "call", "meeting", "message", "note"]


class Progress:
    """Prints each step with the time since the start, so a long load shows where it is."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def say(self, message: str) -> None:
        print(f"[{self.elapsed():6.1f}s] {message}", flush=True)


def _pick(words: str, number: str) -> str:
    """SQL for the element of the text array parameter ``words`` chosen by ``number``."""
    return f"(%({words})s::text[])[1 + mod({number}, cardinality(%({words})s::text[]))]"


def _execute(sql: str, params: dict | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _fetch(sql: str, params: dict | list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- dropping and re-creating indexes and constraints around the load -----------------


def _drop_secondary_structures(tables: list[str]) -> list[str]:
    """Drop the non-primary-key indexes, unique and foreign-key constraints of ``tables``.

    Returns the DDL that re-creates them, read from the catalogue, so that the
    result is exactly what the migrations made whatever they contain.
    """
    constraints = _fetch(
        """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype
        FROM pg_constraint
        WHERE conrelid = ANY(%(tables)s::regclass[]) AND contype IN ('f', 'u')
        ORDER BY contype DESC, conname
        """,
        {"tables": tables},
    )
    indexes = _fetch(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%(tables)s::regclass[]) AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1
        """,
        {"tables": tables},
    )
    recreate = []
    for table, name, _definition, _kind in constraints:
        _execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, definition in indexes:
        _execute(f"DROP INDEX {name}")
        recreate.append(definition)
    # Unique constraints before the foreign keys that may rely on them.
    recreate += [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        for table, name, definition, kind in sorted(constraints, key=lambda c: c[3] != "u")
    ]
    return recreate


def _recreate(statements: list[str], table: str, progress: Progress) -> None:
    """Run the re-creating DDL that concerns ``table`` (its indexes, then its constraints)."""
    mine = [s for s in statements if f" ON public.{table} " in s or f"TABLE {table} " in s]
    for statement in mine:
        started = time.monotonic()
        _execute(statement)
        statements.remove(statement)
        if time.monotonic() - started > 5:
            progress.say(f"    {time.monotonic() - started:.0f} s: {statement[:90]}")
    # Statistics for the queries of the rest of the load that read this table.
    _execute(f"ANALYZE {table}")
    progress.say(f"  {table}: {len(mine)} indexes and constraints re-created")


# --- the steps of the load -----------------------------------------------------------------


def _organisation(params: dict, progress: Progress) -> None:
    _execute(
        """
        INSERT INTO accounts_team (id, name, created_at)
        SELECT t, 'Team ' || lpad(t::text, 2, '0'), %(start)s
        FROM generate_series(1, %(teams)s) t
        """,
        params,
    )
    # Users 1..teams are the leads (user t leads team t); the others are reps,
    # user u in team ((u - 1) mod teams) + 1.
    _execute(
        f"""
        INSERT INTO accounts_user (id, password, last_login, is_superuser, username,
            first_name, last_name, email, is_staff, is_active, date_joined, team_role, team_id)
        SELECT u, %(password)s, NULL, false, role || u,
            {_pick("first", "u * 7")},
            {_pick("last", "u * 11")},
            role || u || '@relcrm.example', false, true, %(start)s, role, mod(u - 1, %(teams)s) + 1
        FROM generate_series(1, %(users)s) u,
            LATERAL (SELECT CASE WHEN u <= %(teams)s THEN 'lead' ELSE 'rep' END AS role) r
        """,
        params,
    )
    progress.say(f"teams: {params['teams']}, users: {params['users']}")


def _accounts(params: dict, progress: Progress) -> None:
    """Accounts spread over the teams, owned by a rep of the team, created over 4.5 years.

    All start stale with no health (nothing was computed yet); about 2% are archived.
    """
    _execute(
        f"""
        INSERT INTO accounts_account (id, name, domain, created_at, updated_at, archived_at,
            health_stale_at, health_score, health_band, health_confidence, health_computed_at,
            health_digest, owner_id, team_id)
        SELECT a,
            {_pick("companies", "floor(r1 * 1000)::int")} || ' '
                || {_pick("suffixes", "a")} || ' ' || a,
            'account' || a || '.example',
            created, created,
            CASE WHEN a <> %(heavy)s AND r2 < 0.02
                THEN created + (%(now)s - created) * r3 END,
            %(now)s, NULL, '', NULL, NULL, '',
            team + %(teams)s * (1 + mod(a / %(teams)s, %(users)s / %(teams)s - 1)),
            team
        FROM (
            SELECT a, mod(a - 1, %(teams)s) + 1 AS team, random() AS r1, random() AS r2,
                random() AS r3,
                CASE WHEN a = %(heavy)s THEN %(start)s
                    ELSE %(start)s + (%(now)s - %(start)s - interval '180 days') * random()
                END AS created
            FROM generate_series(1, %(accounts)s) a
            OFFSET 0
        ) s
        """,
        params,
    )
    progress.say(f"accounts: {params['accounts']:,}")


def _account_load(params: dict, progress: Progress) -> None:
    """How many interactions each account gets: the skew of the reference data set.

    Account 1 gets 5,000; the rest of the top 1% (chosen at random) share the
    remainder of 30% of all interactions, each 0.5-1.5x their mean; everyone
    else draws from an exponential distribution (many quiet accounts, a few
    busy ones, some with none at all).
    """
    accounts, total = params["accounts"], params["interactions"]
    top = max(1, accounts // 100)
    heavy = params["heavy_interactions"]
    params["top_mean"] = (total * TOP_SHARE - heavy) / (top - 1) if top > 1 else 0.0
    params["rest_mean"] = total * (1 - TOP_SHARE) / max(1, accounts - top)
    params["top"] = top
    _execute(
        """
        CREATE TEMP TABLE bench_load ON COMMIT DROP AS
        SELECT id AS account_id, created_at, owner_id, team_id, 1 + mod(id, 5) AS n_contacts,
            CASE WHEN rank = 1 THEN %(heavy_interactions)s
                WHEN rank <= %(top)s THEN round(%(top_mean)s * (0.5 + random()))::int
                ELSE round(-ln(1 - random()) * %(rest_mean)s)::int
            END AS n
        FROM (
            SELECT a.*, row_number() OVER (ORDER BY a.id <> %(heavy)s, random()) AS rank
            FROM accounts_account a
        ) ranked
        """,
        params,
    )
    _execute("CREATE UNIQUE INDEX ON bench_load (account_id)")
    _execute("ANALYZE bench_load")
    planned = _fetch("SELECT sum(n) FROM bench_load")[0][0]
    progress.say(f"skew planned: {planned:,} interactions, top 1% = {top:,} accounts")


def _contacts(params: dict, progress: Progress) -> None:
    """One to five contacts per account (three on average): ids ``account + accounts * k``.

    The arithmetic ids let interactions and promises pick a contact of their
    account without a join.
    """
    count = _execute(
        f"""
        INSERT INTO accounts_contact (id, first_name, last_name, email, phone, title,
            created_at, updated_at, account_id)
        SELECT c, first, last, lower(first || '.' || last) || c || '@customer.example',
            '+1 555 ' || lpad(mod(c, 10000000)::text, 7, '0'),
            {_pick("titles", "c")},
            l.created_at, l.created_at, l.account_id
        FROM bench_load l,
            LATERAL generate_series(0, l.n_contacts - 1) k,
            LATERAL (SELECT l.account_id + %(accounts)s::bigint * k AS c) ids,
            LATERAL (SELECT {_pick("first", "c * 3")} AS first,
                            {_pick("last", "c * 5")} AS last) n
        """,
        params,
    )
    progress.say(f"contacts: {count:,}")


def _interactions(params: dict, progress: Progress, chunks: int = 10) -> int:
    """Generate per account (in chunks, with progress), then write in time order.

    ``answered_at`` of an inbound interaction is the first outbound one at or
    after it in the same account: a running ``min`` over the account's rows in
    descending time, whose default frame (RANGE ... CURRENT ROW) includes the
    rows at the same instant. A frame running forwards would make PostgreSQL
    re-aggregate the rest of the account for every row.
    """
    _execute(
        """
        CREATE TEMP TABLE bench_interaction (
            account_id bigint, occurred_at timestamptz, created_at timestamptz, kind smallint,
            outbound boolean, sentiment smallint, summary smallint, logged_by bigint,
            answered_at timestamptz
        ) ON COMMIT DROP
        """
    )
    accounts = params["accounts"]
    step = -(-accounts // chunks)
    for first in range(1, accounts + 1, step):
        _execute(
            """
            INSERT INTO bench_interaction
            SELECT account_id, occurred_at, created_at, kind, outbound, sentiment, summary,
                logged_by,
                CASE WHEN NOT outbound THEN
                    min(occurred_at) FILTER (WHERE outbound) OVER (
                        PARTITION BY account_id ORDER BY occurred_at DESC)
                END
            FROM (
                SELECT account_id, occurred_at,
                    least(occurred_at + interval '1 minute' + r_created * interval '2 hours',
                          %(now)s) AS created_at,
                    CASE WHEN r_kind < 0.40 THEN 1 WHEN r_kind < 0.65 THEN 2
                         WHEN r_kind < 0.75 THEN 3 WHEN r_kind < 0.90 THEN 4 ELSE 5 END AS kind,
                    r_direction < 0.6 AS outbound,
                    CASE WHEN r_sentiment < 0.35 THEN NULL
                         WHEN r_sentiment < 0.40 THEN -2 WHEN r_sentiment < 0.47 THEN -1
                         WHEN r_sentiment < 0.67 THEN 0 WHEN r_sentiment < 0.88 THEN 1
                         ELSE 2 END AS sentiment,
                    1 + floor(r_summary * %(n_summaries)s)::int AS summary,
                    CASE WHEN r_logger < 0.8 THEN owner_id
                         ELSE team_id + %(teams)s * floor(r_logger * 10)::int END AS logged_by
                FROM (
                    SELECT l.account_id, l.owner_id, l.team_id,
                        -- sqrt: activity grows over the years, as a growing business's does
                        l.created_at + (%(now)s - interval '1 hour' - l.created_at)
                            * sqrt(random()) AS occurred_at,
                        random() AS r_created, random() AS r_kind, random() AS r_direction,
                        random() AS r_sentiment, random() AS r_summary, random() AS r_logger
                    FROM bench_load l, LATERAL generate_series(1, l.n) g
                    WHERE l.account_id BETWEEN %(first_account)s AND %(last_account)s
                    OFFSET 0
                ) raw
            ) drawn
            """,
            {**params, "first_account": first, "last_account": min(accounts, first + step - 1)},
        )
        progress.say(f"  interactions generated for accounts {first:,}..{first + step - 1:,}")
    count = _execute(
        """
        INSERT INTO interactions_interaction (id, kind, direction, occurred_at, summary,
            sentiment, external_id, answered_at, created_at, updated_at, account_id,
            logged_by_id)
        SELECT id, (%(kinds)s::text[])[kind],
            CASE WHEN outbound THEN 'outbound' ELSE 'inbound' END,
            occurred_at, (%(summaries)s::text[])[summary], sentiment,
            -- a fifth came from a synced system (e-mail, telephony) and carry its id
            CASE WHEN mod(id, 5) = 0 THEN 'ext-' || id END,
            answered_at, created_at, created_at, account_id, logged_by
        FROM (
            SELECT b.*, row_number() OVER (ORDER BY occurred_at) AS id FROM bench_interaction b
        ) ordered
        -- the window's order: ORDER BY id would sort the five million rows a second time
        ORDER BY occurred_at
        """,
        params,
    )
    progress.say(f"interactions: {count:,} written in time order")
    return count


def _interaction_contacts(params: dict, progress: Progress) -> None:
    """Most calls and meetings had one of the account's contacts present.

    E-mails, messages and notes are left without: it keeps the join table at
    about a quarter of the interactions, which is what the timeline reads.
    """
    count = _execute(
        """
        INSERT INTO interactions_interaction_contacts (id, interaction_id, contact_id)
        SELECT row_number() OVER (ORDER BY id), id,
            account_id + %(accounts)s::bigint * floor(random() * (1 + mod(account_id, 5)))::bigint
        FROM interactions_interaction
        WHERE kind IN ('call', 'meeting') AND random() < 0.8
        """,
        params,
    )
    progress.say(f"interaction contacts: {count:,}")


def _promise_plan(params: dict, progress: Progress) -> None:
    """Which interactions carried a commitment, its original due time and renegotiations.

    Due times: most within two weeks, a quarter within two months, a few
    long-dated. About one promise in ten was renegotiated once or twice
    (each time before it was due, to a later date).
    """
    params["sample"] = min(1.0, params["promises"] / params["interactions_written"])
    _execute(
        """
        CREATE TEMP TABLE bench_promise_plan ON COMMIT DROP AS
        SELECT row_number() OVER (ORDER BY created_at, interaction_id) AS id, p.*,
            d0 + reneg * delta AS due_at,
            CASE WHEN reneg = 0 THEN created_at
                 ELSE created_at + (least(d0, %(now)s) - created_at) * reneg / (reneg + 1)
            END AS base
        FROM (
            SELECT i.id AS interaction_id, i.account_id, i.logged_by_id AS owner_id,
                i.created_at,
                CASE WHEN random() < 0.6 THEN i.account_id + %(accounts)s::bigint
                    * floor(random() * (1 + mod(i.account_id, 5)))::bigint END AS contact_id,
                random() < 0.8 AS linked,
                i.occurred_at + CASE
                    WHEN r_delay < 0.70 THEN interval '1 day' + r_days * interval '13 days'
                    WHEN r_delay < 0.95 THEN interval '14 days' + r_days * interval '46 days'
                    ELSE interval '60 days' + r_days * interval '120 days' END AS d0,
                CASE WHEN r_reneg < 0.08 THEN 1 WHEN r_reneg < 0.10 THEN 2 ELSE 0 END AS reneg,
                interval '1 day' + random() * interval '13 days' AS delta,
                1 + floor(random() * %(n_descriptions)s)::int AS description
            FROM (
                SELECT i.*, random() AS r_delay, random() AS r_days, random() AS r_reneg
                FROM interactions_interaction i
                WHERE random() < %(sample)s
                OFFSET 0
            ) i
        ) p
        """,
        params,
    )
    future, recent = _fetch(
        """
        SELECT count(*) FILTER (WHERE due_at > %(now)s),
               count(*) FILTER (WHERE due_at <= %(now)s AND due_at > %(now)s - interval '7 days')
        FROM bench_promise_plan
        """,
        params,
    )[0]
    # 80% of the promises not yet due stay open; make 5% of all open ones overdue
    # by leaving that many of the last week's due promises open.
    overdue_wanted = 0.80 * future * 0.05 / 0.95
    params["p_overdue"] = min(1.0, overdue_wanted / recent) if recent else 0.0
    progress.say(f"promise plan: {future:,} not yet due, {recent:,} due in the last week")


def _promise_states(params: dict, progress: Progress) -> None:
    """Each promise's status and the times of its transitions, as the services set them.

    Not yet due: 80% open, the rest kept early, released or broken with
    disclosure. Due: 60% kept on time, 12% kept late (nine in ten of those were
    swept broken first and keep their ``broken_at``), 14% broken by the sweep
    (a minute after due), 5% broken with disclosure before due, 9% released;
    and a few of the last week's left open, overdue. A transition is always
    after the last renegotiation.
    """
    _execute(
        """
        CREATE TEMP TABLE bench_promise ON COMMIT DROP AS
        SELECT p.*, s.status, s.kept_at, s.broken_at, s.released_at,
            coalesce(s.broken_at < p.due_at, false) AS disclosed,
            NULL::timestamptz AS repaired_at
        FROM (
            SELECT p.*, random() AS u, random() AS r, random() AS r_overdue,
                random() AS r_swept_first, random() AS r_sweep
            FROM bench_promise_plan p
            OFFSET 0
        ) p,
            LATERAL (
                SELECT p.due_at <= %(now)s AS past,
                    p.due_at <= %(now)s AND p.due_at > %(now)s - interval '7 days'
                        AND p.r_overdue < %(p_overdue)s AS overdue,
                    -- the sweep runs every minute
                    least(p.due_at + p.r_sweep * interval '60 s', %(now)s) AS sweep
            ) t,
            LATERAL (
                SELECT
                    CASE WHEN NOT past THEN CASE WHEN p.u < 0.80 THEN 'open'
                            WHEN p.u < 0.92 THEN 'kept' WHEN p.u < 0.96 THEN 'released'
                            ELSE 'broken' END
                        WHEN overdue THEN 'open'
                        WHEN p.u < 0.72 THEN 'kept' WHEN p.u < 0.91 THEN 'broken'
                        ELSE 'released' END AS status,
                    CASE WHEN NOT past THEN CASE WHEN p.u >= 0.80 AND p.u < 0.92
                            THEN p.base + (%(now)s - p.base) * p.r END
                        WHEN overdue THEN NULL
                        WHEN p.u < 0.60 THEN p.base + (p.due_at - p.base) * p.r
                        WHEN p.u < 0.72 AND p.r_swept_first < 0.9 THEN least(
                            sweep + interval '1 hour' + p.r * interval '10 days', %(now)s)
                        WHEN p.u < 0.72 THEN least(p.due_at + p.r * interval '50 s', %(now)s)
                    END AS kept_at,
                    CASE WHEN NOT past THEN CASE WHEN p.u >= 0.96
                            THEN p.base + (%(now)s - p.base) * p.r END
                        WHEN overdue THEN NULL
                        WHEN p.u >= 0.60 AND p.u < 0.72 AND p.r_swept_first < 0.9 THEN sweep
                        WHEN p.u >= 0.72 AND p.u < 0.86 THEN sweep
                        WHEN p.u >= 0.86 AND p.u < 0.91 THEN p.base + (p.due_at - p.base) * p.r
                    END AS broken_at,
                    -- released before the due time (after it, the sweep breaks it first)
                    CASE WHEN NOT past THEN CASE WHEN p.u >= 0.92 AND p.u < 0.96
                            THEN p.base + (%(now)s - p.base) * p.r END
                        WHEN NOT overdue AND p.u >= 0.91
                            THEN p.base + (p.due_at - p.base) * p.r
                    END AS released_at
            ) s
        """,
        params,
    )
    _execute("CREATE INDEX ON bench_promise (account_id, kept_at)")
    _execute("ANALYZE bench_promise")
    # A break's repair is the first kept promise made after it, or the first
    # positive outbound touch after it (promises.services records the same).
    repaired = _execute(
        """
        UPDATE bench_promise b SET repaired_at = r.at
        FROM (
            SELECT b2.id, LEAST(
                (SELECT min(k.kept_at) FROM bench_promise k
                  WHERE k.account_id = b2.account_id AND k.created_at > b2.broken_at
                    AND k.kept_at >= b2.broken_at
                    AND k.kept_at <= b2.broken_at + %(repair)s * 2),
                (SELECT min(i.occurred_at) FROM interactions_interaction i
                  WHERE i.account_id = b2.account_id AND i.direction = 'outbound'
                    AND i.sentiment > 0 AND i.occurred_at >= b2.broken_at
                    AND i.occurred_at <= b2.broken_at + %(repair)s * 2)) AS at
            FROM bench_promise b2 WHERE b2.broken_at IS NOT NULL
        ) r
        WHERE b.id = r.id AND r.at IS NOT NULL
        """,
        params,
    )
    progress.say(f"promise states drawn; {repaired:,} breaks repaired")


def _promises(params: dict, progress: Progress) -> None:
    count = _execute(
        """
        INSERT INTO promises_promise (id, description, due_at, status, kept_at, broken_at,
            broken_disclosed, released_at, renegotiated_count, repaired_at, reminded_for_due_at,
            created_at, updated_at, account_id, contact_id, interaction_id, owner_id)
        SELECT id, (%(descriptions)s::text[])[description], due_at, status, kept_at, broken_at,
            disclosed, released_at, reneg, repaired_at, NULL, created_at,
            greatest(base, kept_at, broken_at, released_at), account_id, contact_id,
            CASE WHEN linked THEN interaction_id END, owner_id
        FROM bench_promise
        ORDER BY id
        """,
        params,
    )
    progress.say(f"promises: {count:,}")
    # created, each renegotiation, the break (by nobody when the sweep did it),
    # then the keep or the release: in time order, as they were appended.
    count = _execute(
        """
        INSERT INTO promises_promiseevent (id, kind, at, note, old_due_at, new_due_at, by_id,
            promise_id)
        SELECT row_number() OVER (ORDER BY at, promise_id, seq), kind, at, note, old_due, new_due,
            by_id, promise_id
        FROM (
            SELECT id AS promise_id, 0 AS seq, 'created' AS kind, created_at AS at, '' AS note,
                NULL::timestamptz AS old_due, d0 AS new_due, owner_id AS by_id
            FROM bench_promise
            UNION ALL
            SELECT id, k, 'renegotiated',
                created_at + (least(d0, %(now)s) - created_at) * k / (reneg + 1),
                'Agreed a new date with the customer', d0 + (k - 1) * delta, d0 + k * delta,
                owner_id
            FROM bench_promise, LATERAL generate_series(1, reneg) k
            UNION ALL
            SELECT id, 10, 'broken', broken_at,
                CASE WHEN disclosed THEN 'We told the customer it will not happen'
                     ELSE 'Overdue' END,
                NULL, NULL, CASE WHEN disclosed THEN owner_id END
            FROM bench_promise WHERE broken_at IS NOT NULL
            UNION ALL
            SELECT id, 11, 'kept', kept_at, '', NULL, NULL, owner_id
            FROM bench_promise WHERE kept_at IS NOT NULL
            UNION ALL
            SELECT id, 11, 'released', released_at, 'The customer no longer needs it',
                NULL, NULL, owner_id
            FROM bench_promise WHERE released_at IS NOT NULL
        ) events
        ORDER BY at, promise_id, seq
        """,
        params,
    )
    progress.say(f"promise events: {count:,}")
    # One promise_broken alert per promise ever broken; the team lead resolved
    # the old ones, acknowledged last month's, and has this week's still open.
    count = _execute(
        """
        INSERT INTO promises_alert (id, kind, status, detail, created_at, acknowledged_at,
            resolved_at, note, account_id, acknowledged_by_id, resolved_by_id, promise_id)
        SELECT row_number() OVER (ORDER BY b.broken_at, b.id), 'promise_broken', state, '',
            b.broken_at,
            CASE WHEN state <> 'open' THEN b.broken_at + interval '1 day' END,
            CASE WHEN state = 'resolved' THEN b.broken_at + interval '2 days' END,
            CASE WHEN state = 'resolved' THEN 'Called the customer and agreed a way forward'
                 ELSE '' END,
            b.account_id,
            CASE WHEN state <> 'open' THEN lead.id END,
            CASE WHEN state = 'resolved' THEN lead.id END,
            b.id
        FROM bench_promise b
            JOIN accounts_account a ON a.id = b.account_id
            JOIN accounts_user lead ON lead.team_id = a.team_id AND lead.team_role = 'lead',
            LATERAL (SELECT CASE WHEN b.broken_at < %(now)s - interval '30 days' THEN 'resolved'
                                 WHEN b.broken_at < %(now)s - interval '7 days' THEN 'acknowledged'
                                 ELSE 'open' END AS state) s
        WHERE b.broken_at IS NOT NULL
        ORDER BY b.broken_at, b.id
        """,
        params,
    )
    progress.say(f"alerts: {count:,}")


def _backend_cpu_seconds() -> float | None:
    """CPU time used so far by this connection's PostgreSQL backend, when it runs on this machine.

    On a shared machine the wall time of the load says as much about the
    neighbours as about the load; the server's CPU time says what the load cost.
    """
    pid = _fetch("SELECT pg_backend_pid()")[0][0]
    stat = f"/proc/{pid}/stat"
    if not os.path.exists(stat):
        return None
    with open(stat) as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _project_tables() -> list[str]:
    models = [
        Team,
        User,
        Account,
        Contact,
        Interaction,
        Promise,
        PromiseEvent,
        Alert,
        TrustSnapshot,
    ]
    tables = [model._meta.db_table for model in models]
    tables += [
        field.remote_field.through._meta.db_table  # type: ignore[union-attr]  # always set on M2M
        for model in models
        for field in model._meta.local_many_to_many
    ]
    return tables


def generate(sizes: Sizes, progress: Progress) -> datetime:
    """Empty the project tables and load the data set; returns the 'now' it is relative to."""
    now = timezone.now().replace(microsecond=0)
    params = {
        "now": now,
        "start": now - timedelta(days=365 * HISTORY_YEARS),
        "teams": sizes.teams,
        "users": sizes.users,
        "accounts": sizes.accounts,
        "interactions": sizes.interactions,
        "promises": sizes.promises,
        "heavy": HEAVY_ACCOUNT_ID,
        "heavy_interactions": sizes.heavy_interactions,
        "password": make_password(BENCH_PASSWORD),
        "repair": timedelta(days=DEFAULT_PARAMS.repair_window_days),
        "first": FIRST_NAMES,
        "last": LAST_NAMES,
        "companies": COMPANIES,
        "suffixes": COMPANY_SUFFIXES,
        "titles": TITLES,
        "summaries": SUMMARIES,
        "n_summaries": len(SUMMARIES),
        "descriptions": DESCRIPTIONS,
        "n_descriptions": len(DESCRIPTIONS),
        "kinds": KINDS,
    }
    # Temporary tables live in session-local buffers, sized before the first one is used.
    _execute("SET temp_buffers = '2GB'")
    with transaction.atomic():
        # Memory for the sorts and index builds of this one session; a fixed
        # seed so that two runs at one scale load the same data set.
        _execute("SET LOCAL work_mem = '2GB'")
        _execute("SET LOCAL maintenance_work_mem = '2GB'")
        _execute("SET LOCAL synchronous_commit = off")
        _execute("SET LOCAL max_parallel_workers_per_gather = 0")
        _execute("SET LOCAL jit = off")
        _execute("SELECT setseed(0.42)")
        _execute(f"TRUNCATE {', '.join(_project_tables())} RESTART IDENTITY CASCADE")
        recreate = _drop_secondary_structures(BULK_TABLES)
        progress.say(f"emptied; {len(recreate)} indexes and constraints dropped for the load")

        _organisation(params, progress)
        _accounts(params, progress)
        _account_load(params, progress)
        _contacts(params, progress)
        _recreate(recreate, "accounts_account", progress)
        _recreate(recreate, "accounts_contact", progress)
        params["interactions_written"] = _interactions(params, progress)
        _recreate(recreate, "interactions_interaction", progress)
        _interaction_contacts(params, progress)
        _recreate(recreate, "interactions_interaction_contacts", progress)
        _promise_plan(params, progress)
        _promise_states(params, progress)
        _promises(params, progress)
        for table in ("promises_promise", "promises_promiseevent", "promises_alert"):
            _recreate(recreate, table, progress)
        if recreate:
            raise RuntimeError(f"DDL not re-created: {recreate}")
        # Rows were written with explicit ids: move each sequence past them.
        models = [Team, User, Account, Contact, Interaction, Promise, PromiseEvent, Alert]
        models.append(Interaction.contacts.through)
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            _execute(statement)
    progress.say("committed")
    # VACUUM (outside a transaction) sets the hint bits and the visibility map,
    # so the first benchmark does not pay for them and index-only scans work.
    for table in _project_tables():
        _execute(f"VACUUM (ANALYZE) {table}")
    progress.say("vacuumed and analyzed")
    return now


# --- checking the result -------------------------------------------------------------------


def verify(sizes: Sizes, progress: Progress) -> list[str]:
    """Check the domain rules the data set promises; returns what is wrong (empty when right)."""
    problems = []

    def check(sql: str, what: str) -> None:
        bad = _fetch(sql)[0][0]
        if bad:
            problems.append(f"{bad:,} {what}")

    check(
        "SELECT count(*) FROM promises_promise p WHERE NOT EXISTS (SELECT 1 FROM"
        " promises_promiseevent e WHERE e.promise_id = p.id AND e.kind = 'created')",
        "promises without a created event",
    )
    check(
        "SELECT count(*) FROM promises_promise p WHERE p.status <> 'open' AND NOT EXISTS"
        " (SELECT 1 FROM promises_promiseevent e WHERE e.promise_id = p.id"
        " AND e.kind = p.status)",
        "closed promises without the event of their transition",
    )
    check(
        "SELECT count(*) FROM promises_promise p WHERE p.renegotiated_count <> (SELECT count(*)"
        " FROM promises_promiseevent e WHERE e.promise_id = p.id AND e.kind = 'renegotiated')",
        "promises whose renegotiated_count is not their renegotiation events",
    )
    check(
        "SELECT count(*) FROM promises_promise p WHERE p.broken_at IS NOT NULL AND NOT EXISTS"
        " (SELECT 1 FROM promises_alert a WHERE a.promise_id = p.id"
        " AND a.kind = 'promise_broken')",
        "broken promises without their alert",
    )
    check(
        "SELECT count(*) FROM promises_promise WHERE broken_disclosed AND NOT (broken_at < due_at)",
        "disclosed breaks not before the due time",
    )
    check(
        "SELECT count(*) FROM accounts_account WHERE health_stale_at IS NULL"
        " OR health_score IS NOT NULL OR health_computed_at IS NOT NULL",
        "accounts with health computed or not marked stale",
    )
    # answered_at, recomputed the slow obvious way for the heavy account and a sample.
    check(
        f"""
        SELECT count(*) FROM (
            SELECT * FROM interactions_interaction WHERE account_id = {HEAVY_ACCOUNT_ID}
            UNION
            SELECT * FROM interactions_interaction TABLESAMPLE BERNOULLI (0.1) REPEATABLE (7)
        ) i
        WHERE i.direction = 'inbound' AND i.answered_at IS DISTINCT FROM (
            SELECT min(o.occurred_at) FROM interactions_interaction o
            WHERE o.account_id = i.account_id AND o.direction = 'outbound'
              AND o.occurred_at >= i.occurred_at)
        """,
        "inbound interactions whose answered_at is not the next outbound one",
    )
    heavy = _fetch(
        "SELECT count(*) FROM interactions_interaction WHERE account_id = %s", [HEAVY_ACCOUNT_ID]
    )[0][0]
    if heavy != sizes.heavy_interactions:
        problems.append(f"account {HEAVY_ACCOUNT_ID} has {heavy:,} interactions, not 5,000")
    progress.say("verified" if not problems else "verification FAILED")
    return problems


def describe() -> None:
    """Print the shape of what was loaded: sizes, skew, statuses."""
    counts = {
        table: _fetch(f"SELECT count(*) FROM {table}")[0][0]
        for table in [
            "accounts_team", "accounts_user", "accounts_account", "accounts_contact",
            "interactions_interaction", "interactions_interaction_contacts",
            "promises_promise", "promises_promiseevent", "promises_alert",
        ]
    }  # fmt: skip
    for table, count in counts.items():
        print(f"  {table:36} {count:>12,}")
    top_share, top_max = _fetch(
        """
        SELECT sum(n) FILTER (WHERE rank <= greatest(1, accounts / 100))::float / sum(n), max(n)
        FROM (SELECT count(*) AS n, row_number() OVER (ORDER BY count(*) DESC) AS rank,
                     (SELECT count(*) FROM accounts_account) AS accounts
              FROM interactions_interaction GROUP BY account_id) t
        """
    )[0]
    print(f"  top 1% of accounts hold {top_share:.1%} of interactions; the busiest has {top_max:,}")
    statuses = dict(_fetch("SELECT status, count(*) FROM promises_promise GROUP BY 1"))
    overdue = _fetch(
        "SELECT count(*) FROM promises_promise WHERE status = 'open' AND due_at < now()"
    )[0][0]
    print("  promises: " + ", ".join(f"{k} {v:,}" for k, v in sorted(statuses.items())))
    open_count = statuses.get("open", 0)
    if open_count:
        print(f"  open and past due: {overdue:,} ({overdue / open_count:.1%} of the open ones)")


def main() -> None:
    require_postgres()
    create_database_if_missing()
    sizes = Sizes.for_scale(scale_from_env())
    print(
        f"relcrm bench data, SCALE={sizes.scale:g}: {sizes.accounts:,} accounts, "
        f"{sizes.contacts:,} contacts, {sizes.interactions:,} interactions, "
        f"{sizes.promises:,} promises, {sizes.teams} teams, {sizes.users} users "
        f"into {connection.settings_dict['NAME']}",
        flush=True,
    )
    call_command("migrate", interactive=False, verbosity=0)
    progress = Progress()
    generate(sizes, progress)
    generated_in = progress.elapsed()
    cpu = _backend_cpu_seconds()
    problems = verify(sizes, progress)
    describe()
    load = os.getloadavg()[0]
    cpu_note = f"; PostgreSQL backend CPU {cpu:.0f} s" if cpu is not None else ""
    print(
        f"generated in {generated_in:.1f} s{cpu_note}; load average {load:.1f} on "
        f"{os.cpu_count()} cores (target for SCALE=1: under 180 s)"
    )
    if problems:
        sys.exit("The data set breaks its own rules:\n  " + "\n  ".join(problems))


if __name__ == "__main__":
    main()
