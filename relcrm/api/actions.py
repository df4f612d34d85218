"""The one way an API action (keep, acknowledge, ...) runs a state transition."""

from rest_framework.response import Response


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
