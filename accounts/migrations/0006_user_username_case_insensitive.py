import unicodedata

import django.db.models.functions.text
from django.db import migrations, models


def normalise_usernames(apps, schema_editor):
    """Store every username trimmed and NFKC-normalised; refuse clearly if two then clash."""
    User = apps.get_model("accounts", "User")
    seen = {}
    for user in User.objects.only("username").order_by("id"):
        normal = unicodedata.normalize("NFKC", user.username).strip()
        key = normal.lower()
        if key in seen:
            raise RuntimeError(
                f"Usernames {seen[key]!r} and {user.username!r} differ only in case or spacing; "
                "rename one of them, then migrate again."
            )
        seen[key] = user.username
        if normal != user.username:
            User.objects.filter(pk=user.pk).update(username=normal)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0005_user_leads_manager'),
        ('auth', '0012_alter_user_first_name_max_length'),
    ]

    operations = [
        migrations.RunPython(normalise_usernames, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.UniqueConstraint(django.db.models.functions.text.Lower('username'), name='user_username_case_insensitive', violation_error_message='A user with that username already exists.'),
        ),
    ]
