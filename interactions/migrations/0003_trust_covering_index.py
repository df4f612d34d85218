from django.db import migrations, models


class Migration(migrations.Migration):
    """The timeline's index carries what the trust aggregation reads (an index-only scan)."""

    dependencies = [
        ("interactions", "0002_covering_indexes"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="interaction", name="interaction_account_time"),
        migrations.AddIndex(
            model_name="interaction",
            index=models.Index(
                fields=["account", "occurred_at", "id"],
                include=("direction", "sentiment", "answered_at"),
                name="interaction_account_time",
            ),
        ),
    ]
