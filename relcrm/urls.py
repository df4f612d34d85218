from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("api/v1/", include("relcrm.api.urls")),
    path("admin/", admin.site.urls),
    path("", include("relcrm.ui_urls")),
]

# JSON under /api/, the web UI's pages elsewhere (relcrm/error_views.py).
handler400 = "relcrm.error_views.bad_request"
handler403 = "relcrm.error_views.permission_denied"
handler404 = "relcrm.error_views.page_not_found"
handler500 = "relcrm.error_views.server_error"
