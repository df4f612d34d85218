"""The one way an API action (keep, acknowledge, ...) runs a state transition."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from relcrm.api.schema import error_response


def transition_action(*, request, answer, **action_kwargs):
    """Declare a state transition: ``POST .../{id}/<name>/`` with ``request``, answering ``answer``.

    Documented with the 409 a transition answers when the status does not
    allow it; the other error answers follow from the view (``relcrm.api.schema``).
    ``action_kwargs`` go to DRF's ``action`` (``url_path``, ``permission_classes``).
    """

    def decorate(method):
        # extend_schema goes on the action, not under it: it reads the action's marks.
        return extend_schema(
            request=request,
            responses={
                200: answer,
                409: error_response("The current status does not allow this; `detail` says why."),
            },
        )(action(detail=True, methods=["post"], **action_kwargs)(method))

    return decorate


def transition(view, input_serializer, service):
    """Find the row, check the input, then let ``service`` change it.

    The order is the contract: a row the caller may not see is a 404 and one
    their role may not change a 403 (both from ``get_object``), whatever the
    body says; then bad input is a 400; the service answers a status that does
    not allow the change with a 409. The answer is the updated object.
    """
    target = view.get_object()
    params = input_serializer(data=view.request.data)
    params.is_valid(raise_exception=True)
    changed = service(target, by=view.request.user, **params.validated_data)
    return Response(view.get_serializer(changed).data)
