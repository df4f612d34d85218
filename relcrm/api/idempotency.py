"""``Idempotency-Key`` on POST: a retried request gets the first answer instead of a second write.

A caller that cannot tell whether its POST arrived (a timeout, a dropped
connection) sends it again with the same key. Within ``KEPT_FOR`` of the first,
the same key with the same request (method, path and JSON body) answers the
first answer, status and body, with ``Idempotent-Replayed: true``; the same key
with another request is a 422. Keys belong to the caller: another caller's
equal key is another request.

The key is claimed by inserting its row in the transaction that runs the
request, so the write and the answer kept for its retries commit together or
not at all, and a retry sent while the first is still running waits on the
unique constraint and then replays the committed answer. Only a 2xx answer is
kept: an error wrote nothing, so a retry (with a corrected body, say) runs anew.
"""

import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from relcrm.models import IdempotentRequest

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = IdempotentRequest._meta.get_field("key").max_length


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was sent before with a different request."
    default_code = "idempotency_key_reused"


class _Replay(Exception):
    """Raised once the key is found answered: the view answers that instead of running."""

    def __init__(self, record: IdempotentRequest):
        self.record = record


def fingerprint(request) -> str:
    """The request a key stands for: method, path with query, and the JSON body as parsed."""
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    text = f"{request.method} {request.get_full_path()} {body}"
    return hashlib.sha256(text.encode()).hexdigest()


def claim(user, key: str, print_: str) -> tuple[IdempotentRequest, bool]:
    """The row of ``key`` for ``user``, and whether this request just claimed it.

    Must run in the transaction of the request. Rows older than ``KEPT_FOR``
    are forgotten first (the caller's own, so the table stays the size of the
    last day's keyed requests).
    """
    now = timezone.now()
    IdempotentRequest.objects.filter(user=user, created_at__lt=now - KEPT_FOR).delete()
    try:
        with transaction.atomic():
            record = IdempotentRequest.objects.create(
                user=user, key=key, fingerprint=print_, created_at=now
            )
        return record, True
    except IntegrityError:
        # Another request claimed it, and committed (a concurrent one was waited for).
        return IdempotentRequest.objects.get(user=user, key=key), False


class IdempotentPostMixin:
    """Honours ``Idempotency-Key`` on the view's POSTs (see the module's docstring)."""

    _idempotent: IdempotentRequest | None = None

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST" and HEADER in request.headers:
            with transaction.atomic():
                return super().dispatch(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        # Authentication, permissions and throttling first: a key belongs to a caller.
        super().initial(request, *args, **kwargs)
        self._idempotent = None
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None or not request.user.is_authenticated:
            return
        if not 0 < len(key) <= MAX_KEY_LENGTH:
            raise exceptions.ValidationError(
                {HEADER: [f"Send a key of 1 to {MAX_KEY_LENGTH} characters."]}
            )
        print_ = fingerprint(request)
        record, claimed = claim(request.user, key, print_)
        if claimed:
            self._idempotent = record
        elif record.fingerprint != print_:
            raise KeyReused()
        else:
            raise _Replay(record)

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            body = json.loads(exc.record.body) if exc.record.body else None
            response = Response(body, status=exc.record.status)
            response[REPLAYED_HEADER] = "true"
            return response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record, self._idempotent = self._idempotent, None
        if record is not None:
            if status.is_success(response.status_code):
                record.status = response.status_code
                data = getattr(response, "data", None)  # none for a streamed answer
                record.body = "" if data is None else JSONRenderer().render(data).decode()
                record.save(update_fields=["status", "body"])
            else:
                # Nothing was written; the key is not used up by an error.
                transaction.set_rollback(True)
        return response
