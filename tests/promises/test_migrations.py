"""The data step of the migrations of promises, on rows older code could write."""

import importlib
from datetime import timedelta

from django.apps import apps
from django.db import connection
from django.utils import timezone

from accounts.models import Account
from promises.models import Promise
from tests.factories import AccountFactory, PromiseFactory

kept_at_checks = importlib.import_module("promises.migrations.0006_promise_kept_at_checks")


def test_keeps_back_dated_before_the_promise_or_its_break_move_to_the_first_allowed_time(db):
    account, fine_account = AccountFactory(), AccountFactory()
    now = timezone.now()
    made, broke = now - timedelta(days=10), now - timedelta(days=4)
    before_made = PromiseFactory(account=account, created_at=made)
    before_broken = PromiseFactory(account=account, created_at=made)
    fine = PromiseFactory(account=fine_account, created_at=made)
    with connection.cursor() as cursor:  # as the table was before the constraints
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no foreign key check pending
        for name in ("promise_kept_after_made", "promise_kept_after_broken"):
            cursor.execute(f"ALTER TABLE promises_promise DROP CONSTRAINT {name}")
    Promise.objects.filter(pk=before_made.pk).update(
        status="kept", kept_at=made - timedelta(days=300)
    )
    Promise.objects.filter(pk=before_broken.pk).update(
        status="kept", broken_at=broke, kept_at=broke - timedelta(days=3)
    )
    Promise.objects.filter(pk=fine.pk).update(status="kept", kept_at=made + timedelta(days=1))

    kept_at_checks.move_back_dated_keeps(apps, None)

    kept = dict(Promise.objects.values_list("pk", "kept_at"))
    assert kept == {
        before_made.pk: made,
        before_broken.pk: broke,
        fine.pk: made + timedelta(days=1),
    }
    assert Account.objects.get(pk=account.pk).health_stale_at is not None
    assert Account.objects.get(pk=fine_account.pk).health_stale_at is None
