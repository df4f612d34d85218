"""The project's URLs plus ``/bare/``, the floors of the API benchmark (``bare_views``)."""

from django.urls import path

from benchmarks import bare_views
from relcrm.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("bare/accounts/", bare_views.accounts),
    path("bare/interactions/", bare_views.interactions),
    path("bare/promises/", bare_views.promises),
    *project_urlpatterns,
]
