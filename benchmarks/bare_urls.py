"""The API's URLs plus ``/bare/``, the floors of the API benchmark (``bare_views``).

Only the API is mounted, under the same prefix as in ``relcrm.urls``: the
benchmark measures nothing else, and a page of the web UI being edited must
not stop it.
"""

from django.urls import include, path

from benchmarks import bare_views

urlpatterns = [
    path("bare/accounts/", bare_views.accounts),
    path("bare/interactions/", bare_views.interactions),
    path("bare/promises/", bare_views.promises),
    path("api/v1/", include("relcrm.api.urls")),
]
