"""Domain errors shared by the services, translated to HTTP by the API layer."""


class TransitionNotAllowed(Exception):
    """The object's current status does not allow the requested change (HTTP 409)."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail
