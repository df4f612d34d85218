"""``ETag`` on every answer that is one object, ``If-Match`` on PATCH and DELETE.

An object's ETag is a hash of its JSON, so it changes whenever anything in
the answer does. A PATCH or DELETE sent with ``If-Match`` is carried out only
if the object still has one of the ETags listed (or any, for ``*``): the row is
locked, read again and compared, so a concurrent edit cannot slip in between;
otherwise the answer is a 412 and nothing changes.
"""

import hashlib

from django.db import transaction
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer

IF_MATCH = "If-Match"
CONDITIONAL_METHODS = ("PATCH", "DELETE")


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "It changed since the ETag you sent: read it again, then retry."
    default_code = "precondition_failed"


def etag_of(data) -> str:
    """The strong ETag of an answer's data."""
    return f'"{hashlib.sha256(JSONRenderer().render(data)).hexdigest()[:32]}"'


def _matches(header: str, current: str) -> bool:
    listed = [tag.strip() for tag in header.split(",")]
    # Strong comparison (RFC 9110 13.1.1): a weak tag never matches.
    return "*" in listed or current in listed


def is_one_object(response) -> bool:
    """A 200 or 201 whose body is one object (not a page of them, nor a streamed file)."""
    data = getattr(response, "data", None)
    return (
        response.status_code in (status.HTTP_200_OK, status.HTTP_201_CREATED)
        and isinstance(data, dict)
        and "results" not in data
    )


class ConditionalMixin:
    """ETags on the view's answers that are one object; ``If-Match`` on its PATCH and DELETE."""

    def _conditional(self, request) -> bool:
        return request.method in CONDITIONAL_METHODS and IF_MATCH in request.headers

    def dispatch(self, request, *args, **kwargs):
        if self._conditional(request):
            # The row stays locked from the comparison to the write.
            with transaction.atomic():
                return super().dispatch(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def get_object(self):
        obj = super().get_object()  # a 404 or a 403 comes first, whatever the header says
        if not self._conditional(self.request):
            return obj
        type(obj)._base_manager.select_for_update().filter(pk=obj.pk).values_list("pk").get()
        obj.refresh_from_db()
        if not _matches(self.request.headers[IF_MATCH], etag_of(self.get_serializer(obj).data)):
            raise PreconditionFailed()
        return obj

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if is_one_object(response) and not response.has_header("ETag"):
            response["ETag"] = etag_of(response.data)
        return response
