"""Error answers Django gives before (or instead of) a view: JSON under /api/, pages elsewhere.

DRF answers its own errors as ``{"detail": ...}``, but some never reach a DRF
view: a URL no route matches (``/api/v1/accounts/1.5/``), a Host header not in
ALLOWED_HOSTS, a body over DATA_UPLOAD_MAX_MEMORY_SIZE, a failed CSRF check,
an exception no view caught. Django answers those with its error handlers, which
rendered the web UI's HTML pages even to an API client, a content type the API
never documents. Here each handler answers a path under ``API_PREFIX`` with
the API's error body and leaves every other path to Django's own handler (the
templates 400.html, 403.html, 404.html and 500.html).
"""

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import csrf, defaults

API_PREFIX = "/api/"

NOT_FOUND = "Not found."
BAD_REQUEST = "Bad request: this server cannot read the request."
TOO_LARGE = "The body is larger than this server accepts."
FORBIDDEN = "You may not do this."
SERVER_ERROR = "Something went wrong on our side. It has been logged; please try again."


def _for_api(request: HttpRequest) -> bool:
    # path_info, not get_host(): a Host header that is not allowed is one of the errors here.
    return request.path_info.startswith(API_PREFIX)


def _detail(text: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": text}, status=status)


def page_not_found(request, exception=None):
    if _for_api(request):
        return _detail(NOT_FOUND, 404)
    return defaults.page_not_found(request, exception)


def bad_request(request, exception=None):
    if _for_api(request):
        # Django refuses an oversized body as a SuspiciousOperation, a 400; for the API it
        # is what HTTP calls it, a 413, documented on every operation that takes a body.
        if isinstance(exception, RequestDataTooBig):
            return _detail(TOO_LARGE, 413)
        return _detail(BAD_REQUEST, 400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if _for_api(request):
        return _detail(FORBIDDEN, 403)
    return defaults.permission_denied(request, exception)


def server_error(request) -> HttpResponse:
    if _for_api(request):
        return _detail(SERVER_ERROR, 500)
    return defaults.server_error(request)


def csrf_failure(request, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the reason as the detail under /api/, Django's page elsewhere."""
    if _for_api(request):
        return _detail(f"CSRF check failed: {reason}", 403)
    return csrf.csrf_failure(request, reason)
