"""The audit log's receivers of Django's sign-in signals.

Django signs people in on the sign-in page and reports every refused ``authenticate()``,
whoever called it (the sign-in page, the token endpoint); these signals are the one place
that sees both, so the log misses no door.
"""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from accounts import services
from relcrm.api.throttling import client_address


@receiver(user_logged_in, dispatch_uid="audit_sign_in")
def record_sign_in(sender, request, user, **kwargs):
    services.record_sign_in(user, address=client_address(request) if request else "")


@receiver(user_login_failed, dispatch_uid="audit_failed_sign_in")
def record_failed_sign_in(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))
    services.record_failed_sign_in(username, address=client_address(request) if request else "")
