from django.db import migrations, models
from django.db.models import F, Q
from django.db.models.functions import Greatest, Now


def move_back_dated_keeps(apps, schema_editor):
    """Move a keep recorded before its promise was made, or before it broke, to the first
    time the rules allow (PostgreSQL's GREATEST skips a NULL ``broken_at``), so that the
    constraints below can be added; the accounts' health is marked for a recompute.
    """
    Promise = apps.get_model("promises", "Promise")
    Account = apps.get_model("accounts", "Account")
    back_dated = Promise.objects.filter(
        Q(kept_at__lt=F("created_at")) | Q(kept_at__lt=F("broken_at"))
    )
    accounts = list(back_dated.values_list("account_id", flat=True).distinct())
    back_dated.update(kept_at=Greatest("kept_at", "created_at", "broken_at"))
    Account.objects.filter(pk__in=accounts).update(health_stale_at=Now())


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_user_leads_manager"),
        ("promises", "0005_account_due_covers_trust"),
    ]

    operations = [
        migrations.RunPython(move_back_dated_keeps, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="promise",
            constraint=models.CheckConstraint(
                condition=models.Q(("kept_at__isnull", True), ("kept_at__gte", models.F("created_at")), _connector="OR"),
                name="promise_kept_after_made",
            ),
        ),
        migrations.AddConstraint(
            model_name="promise",
            constraint=models.CheckConstraint(
                condition=models.Q(("kept_at__isnull", True), ("broken_at__isnull", True), ("kept_at__gte", models.F("broken_at")), _connector="OR"),
                name="promise_kept_after_broken",
            ),
        ),
    ]
