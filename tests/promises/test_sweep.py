"""The overdue sweep (``promises.services.flag_overdue_promises``), on its real SQL.

Several sweeps really do run at once in the tests of concurrency, each on its own
connection.
"""

import threading
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account
from promises import services
from promises.models import Alert, Promise, PromiseEvent
from tests.concurrency import in_parallel
from tests.factories import AccountFactory, PromiseFactory, UserFactory

Status = Promise.Status


@contextmanager
def held_elsewhere(hold):
    """Enter the context manager ``hold()`` in another thread, on its own connection,
    and keep it entered for the duration of the ``with`` block."""
    entered, leave = threading.Event(), threading.Event()

    def run():
        try:
            with hold():
                entered.set()
                leave.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    assert entered.wait(timeout=10), "the other thread could not take what it holds"
    try:
        yield
    finally:
        leave.set()
        thread.join()


def many_promises(count: int, *, accounts, due_in, **fields) -> list[Promise]:
    """``count`` promises in one INSERT, spread over ``accounts``; ``due_in(n)`` is a timedelta."""
    now = timezone.now()
    return Promise.objects.bulk_create(
        Promise(
            account=accounts[number % len(accounts)],
            owner=accounts[number % len(accounts)].owner,
            description=f"Promise {number}",
            due_at=now + due_in(number),
            **fields,
        )
        for number in range(count)
    )


def overdue(hours: float = 1, **fields) -> Promise:
    return PromiseFactory(due_at=timezone.now() - timedelta(hours=hours), **fields)


def broken_events(promise: Promise):
    return PromiseEvent.objects.filter(promise=promise, kind=PromiseEvent.Kind.BROKEN)


def test_an_overdue_promise_is_broken_silently_with_its_event_and_alert(db):
    promise = overdue()
    before = timezone.now()

    assert services.flag_overdue_promises() == 1

    promise.refresh_from_db()
    assert promise.status == Status.BROKEN
    assert promise.broken_at >= before
    assert promise.broken_disclosed is False
    event = broken_events(promise).get()
    assert event.by is None and event.note == "Overdue"
    alert = Alert.objects.get(promise=promise)
    assert alert.kind == Alert.Kind.PROMISE_BROKEN
    assert alert.status == Alert.Status.OPEN
    assert alert.account_id == promise.account_id


def test_promises_not_yet_due_or_no_longer_open_are_untouched(db):
    on_time = PromiseFactory(due_at=timezone.now() + timedelta(minutes=5))
    kept = overdue(status=Status.KEPT, kept_at=timezone.now() - timedelta(hours=2))
    released = overdue(status=Status.RELEASED, released_at=timezone.now())

    assert services.flag_overdue_promises() == 0

    for promise, status in (
        (on_time, Status.OPEN),
        (kept, Status.KEPT),
        (released, Status.RELEASED),
    ):
        promise.refresh_from_db()
        assert promise.status == status
        assert not broken_events(promise).exists()
    assert not Alert.objects.exists()


def test_the_sweep_time_decides_what_is_overdue(db):
    promise = PromiseFactory(due_at=timezone.now() + timedelta(hours=2))

    assert services.flag_overdue_promises(now=timezone.now() + timedelta(hours=1)) == 0
    assert services.flag_overdue_promises(now=timezone.now() + timedelta(hours=3)) == 1

    promise.refresh_from_db()
    assert promise.status == Status.BROKEN


def test_repeated_sweeps_raise_exactly_one_alert_and_one_event_per_promise(db):
    promises = [overdue(hours=hours) for hours in (1, 2, 30)]

    counts = [services.flag_overdue_promises() for _ in range(3)]

    assert counts == [3, 0, 0]
    for promise in promises:
        assert broken_events(promise).count() == 1
        assert Alert.objects.filter(promise=promise).count() == 1


def test_a_promise_broken_by_hand_keeps_its_one_alert_when_the_sweep_runs(db):
    promise = overdue()
    services.break_promise(promise, by=promise.owner, note="Supplier went bust")

    assert services.flag_overdue_promises() == 0

    assert Alert.objects.filter(promise=promise).count() == 1
    assert broken_events(promise).get().note == "Supplier went bust"


def test_a_backlog_larger_than_a_batch_is_broken_in_one_sweep(db):
    promises = [overdue(hours=hours) for hours in range(1, 8)]

    assert services.flag_overdue_promises(batch_size=3) == 7

    assert not Promise.objects.filter(status=Status.OPEN).exists()
    assert Alert.objects.filter(promise__in=promises).count() == 7


def test_the_accounts_of_broken_promises_are_marked_stale(db):
    stale = overdue().account
    untouched = PromiseFactory().account
    Account.objects.update(health_stale_at=None)
    before = timezone.now()

    services.flag_overdue_promises()

    stale.refresh_from_db()
    untouched.refresh_from_db()
    assert stale.health_stale_at >= before
    assert untouched.health_stale_at is None


def test_an_empty_sweep_is_one_query_whatever_the_table_holds(db, django_assert_max_num_queries):
    account = AccountFactory()
    many_promises(300, accounts=[account], due_in=lambda n: timedelta(hours=n % 50 + 1))
    overdue(account=account, status=Status.KEPT, kept_at=timezone.now())

    with django_assert_max_num_queries(1):
        assert services.flag_overdue_promises() == 0


def test_a_second_alert_for_one_broken_promise_is_refused_by_the_database(db):
    promise = overdue()
    services.flag_overdue_promises()

    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(
            kind=Alert.Kind.PROMISE_BROKEN, promise=promise, account_id=promise.account_id
        )


def test_the_empty_sweep_reads_the_partial_index_of_open_promises(db):
    many_promises(
        3_000,
        accounts=[AccountFactory()],
        due_in=lambda n: -timedelta(days=n % 900 + 1),
        status=Status.KEPT,
        kept_at=timezone.now() - timedelta(days=1000),
        created_at=timezone.now() - timedelta(days=1001),
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Promise._meta.db_table}")
    with CaptureQueriesContext(connection) as queries:
        services.flag_overdue_promises()
    (query,) = queries.captured_queries

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + query["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "promise_open_due" in plan, plan


def test_parallel_sweeps_break_each_promise_once_with_one_event_and_one_alert(
    transactional_db,
):
    accounts = AccountFactory.create_batch(7)
    promises = many_promises(240, accounts=accounts, due_in=lambda n: -timedelta(hours=n % 48 + 1))
    on_time = PromiseFactory(account=accounts[0])

    counts = in_parallel(lambda: services.flag_overdue_promises(batch_size=17), copies=6)

    assert sum(counts) == len(promises)
    assert not Promise.objects.filter(status=Status.OPEN).exclude(pk=on_time.pk).exists()
    events = PromiseEvent.objects.filter(kind=PromiseEvent.Kind.BROKEN)
    assert events.count() == len(promises)
    assert events.values("promise").distinct().count() == len(promises)
    assert Alert.objects.count() == len(promises)
    assert Alert.objects.values("promise").distinct().count() == len(promises)


def test_a_sweep_skips_a_promise_another_transaction_holds_and_takes_it_later(
    transactional_db,
):
    held, free = overdue(), overdue()

    @contextmanager
    def row_lock():
        with transaction.atomic():
            Promise.objects.select_for_update().get(pk=held.pk)
            yield

    with held_elsewhere(row_lock):
        assert services.flag_overdue_promises() == 1

    free.refresh_from_db()
    held.refresh_from_db()
    assert (free.status, held.status) == (Status.BROKEN, Status.OPEN)
    assert services.flag_overdue_promises() == 1
    held.refresh_from_db()
    assert held.status == Status.BROKEN


def test_an_alert_already_there_for_an_overdue_promise_is_kept_and_not_doubled(db):
    promise = overdue()
    existing = Alert.objects.create(
        kind=Alert.Kind.PROMISE_BROKEN, promise=promise, account_id=promise.account_id
    )

    assert services.flag_overdue_promises() == 1

    assert list(Alert.objects.filter(promise=promise)) == [existing]
    assert broken_events(promise).count() == 1


def test_each_batch_is_one_statement_on_postgresql(db):
    for hours in (1, 2, 3):
        overdue(hours=hours)

    with CaptureQueriesContext(connection) as queries:
        assert services.flag_overdue_promises(batch_size=2) == 3

    statements = [
        query["sql"]
        for query in queries.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT"))
    ]
    # Is anything due? A batch of two. Anything left? The last one.
    assert len(statements) == 4, statements
    assert sum(sql.startswith("WITH claimed") for sql in statements) == 2


def wait_until_blocked(query_contains: str) -> None:
    """Wait until another connection waits for a row lock in a query containing the text."""
    for _ in range(200):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE %s AND pid <> pg_backend_pid()",
                [f"%{query_contains}%"],
            )
            if cursor.fetchone()[0]:
                return
        threading.Event().wait(0.05)
    raise AssertionError(f"no query with {query_contains!r} waited for a lock")


def test_a_sweep_locks_the_accounts_it_marks_in_id_order(transactional_db):
    """As the trust recompute does, so the two never deadlock: while the sweep waits
    for the first account, it holds no lock on the second."""
    first, second = sorted(AccountFactory.create_batch(2), key=lambda account: account.pk)
    overdue(account=second, hours=2)
    overdue(account=first, hours=1)
    result = []

    @contextmanager
    def first_locked():
        with transaction.atomic():
            Account.objects.select_for_update().get(pk=first.pk)
            yield

    def sweep():
        try:
            result.append(services.flag_overdue_promises())
        finally:
            connection.close()

    with held_elsewhere(first_locked):
        sweeping = threading.Thread(target=sweep)
        sweeping.start()
        wait_until_blocked("WITH claimed")
        with transaction.atomic():
            try:
                Account.objects.select_for_update(nowait=True).get(pk=second.pk)
            except DatabaseError:  # pragma: no cover - the failure this test is about
                pytest.fail("the sweep locked the second account before the first")
    sweeping.join(timeout=30)

    assert result == [2]
    assert Account.objects.filter(pk__in=[first.pk, second.pk], health_stale_at=None).count() == 0


def test_events_and_alerts_are_found_by_author_reviewer_or_promise_through_an_index(db):
    """The sweep's events and alerts stay out of the partial indexes of who wrote or
    reviewed them, yet every lookup of those columns (deleting a user or a promise
    checks them) can use an index."""
    user, promise = UserFactory(), overdue()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    lookups = {
        "promise_event_by": PromiseEvent.objects.filter(by=user),
        "alert_acknowledged_by": Alert.objects.filter(acknowledged_by=user),
        "alert_resolved_by": Alert.objects.filter(resolved_by__in=[user]),
        "alert_one_per_broken_promise": Alert.objects.filter(promise=promise),
    }
    for index, queryset in lookups.items():
        assert index in queryset.explain(), (index, queryset.explain())


def rows_left_by(promise: Promise) -> dict:
    """Every row a break wrote for ``promise``, field by field, with the ids that only
    name the promise, its account and its owner left out."""

    def fields(row, *, leave_out=()):
        return {
            field.attname: getattr(row, field.attname)
            for field in type(row)._meta.concrete_fields
            if not field.primary_key and field.attname not in leave_out
        }

    promise.refresh_from_db()
    identity = ("account_id", "owner_id", "promise_id")
    return {
        "promise": fields(promise, leave_out=identity),
        "events": [fields(event, leave_out=identity) for event in broken_events(promise)],
        "alerts": [fields(alert, leave_out=identity) for alert in promise.alerts.all()],
        "stale_at": Account.objects.get(pk=promise.account_id).health_stale_at,
    }


def test_a_swept_break_and_a_manual_break_leave_the_same_rows(db):
    """Apart from what makes one silent and the other disclosed: the due time (past,
    or still ahead), broken_disclosed, and the event's author and note."""
    at = timezone.now().replace(microsecond=0)
    made = {"description": "Send the quote", "created_at": at - timedelta(days=3)}
    swept = PromiseFactory(due_at=at - timedelta(hours=1), **made)
    by_hand = PromiseFactory(due_at=at + timedelta(hours=1), **made)
    Account.objects.update(health_stale_at=None)

    with mock.patch("django.utils.timezone.now", return_value=at):
        services.break_promise(by_hand, by=by_hand.owner, note="The supplier went bust")
        assert services.flag_overdue_promises(now=at) == 1

    left_by = {"swept": rows_left_by(swept), "by hand": rows_left_by(by_hand)}
    differences = {
        "promise": {"due_at": (swept.due_at, by_hand.due_at), "broken_disclosed": (False, True)},
        "events": {
            "by_id": (None, by_hand.owner_id),
            "note": (services.SWEPT_NOTE, "The supplier went bust"),
        },
    }
    for table, fields in differences.items():
        for rows, index in ((left_by["swept"], 0), (left_by["by hand"], 1)):
            written = rows[table] if table == "promise" else rows[table][0]
            for field, values in fields.items():
                assert written.pop(field) == values[index], (table, field)
    assert left_by["swept"] == left_by["by hand"]
    assert left_by["swept"]["promise"]["status"] == Status.BROKEN
    assert left_by["swept"]["promise"]["broken_at"] == at
    assert len(left_by["swept"]["events"]) == len(left_by["swept"]["alerts"]) == 1
    assert left_by["swept"]["stale_at"] == at


def test_a_sweep_leaves_a_promise_made_after_its_time_for_the_next_one(db):
    # The sweep reads the time, then claims: a promise recorded in between, already
    # past due, is not its to break, or its break would precede its making.
    promise = overdue(hours=2)
    sweep_time = promise.created_at - timedelta(seconds=1)

    assert services.flag_overdue_promises(now=sweep_time) == 0
    assert Promise.objects.get(pk=promise.pk).status == Status.OPEN

    assert services.flag_overdue_promises() == 1
    broken = Promise.objects.get(pk=promise.pk)
    assert broken.broken_at >= broken.created_at
