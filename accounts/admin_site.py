"""The admin site: Django's, except that admins sign in where everyone does.

The web UI's sign-in page is the one that is throttled (per address and username, and
per username) and audited; the admin's own form would be a second door without either.
So the admin's sign-in URL sends the visitor there, and checks no password itself.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse


class AdminConfig(DjangoAdminConfig):
    """``django.contrib.admin`` with this site as ``admin.site``; INSTALLED_APPS names it."""

    default_site = "accounts.admin_site.AdminSite"


class AdminSite(admin.AdminSite):
    def login(self, request, extra_context=None):
        from django.contrib.auth.views import redirect_to_login

        index = reverse("admin:index", current_app=self.name)
        if self.has_permission(request):
            return HttpResponseRedirect(index)
        if request.user.is_authenticated:
            # Sending them to sign in would send them straight back here.
            raise PermissionDenied(
                f"You are signed in as {request.user.get_username()}, who is not an admin."
            )
        return redirect_to_login(request.GET.get(REDIRECT_FIELD_NAME) or index, reverse("login"))
