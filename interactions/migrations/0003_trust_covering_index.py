from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("interactions", "0002_covering_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="interaction",
            index=models.Index(
                fields=["account", "occurred_at"],
                include=("direction", "sentiment", "answered_at"),
                name="interaction_account_trust",
            ),
        ),
    ]
