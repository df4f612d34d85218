from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts, contacts and teams"

    def ready(self):
        # Django's sign-in signals: the audit log records every sign-in, wherever it happens.
        from accounts import signals  # noqa: F401
