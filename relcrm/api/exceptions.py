"""Turn domain errors into the API's error shapes: a refused transition is a 409, a rule a 400."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from relcrm.errors import TransitionNotAllowed


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This change is not allowed in the current status."
    default_code = "conflict"


def exception_handler(exc, context):
    if isinstance(exc, TransitionNotAllowed):
        exc = Conflict(exc.detail)
    elif isinstance(exc, DjangoValidationError):
        return Response(as_serializer_error(exc), status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
