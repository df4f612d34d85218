"""The API's one parser: JSON, bounded in depth.

The API reads JSON only (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES names this parser
alone, so the schema documents JSON bodies only). Python's JSON decoder recurses
once per level of nesting: 200 KB of ``[[[...`` raised a RecursionError, a 500,
on every endpoint that reads a body, the sign-in's among them; it is a 400 here.
The size is bounded before this parser runs: DRF hands a JSON parser the body
read through ``request.body``, which refuses one larger than Django's
DATA_UPLOAD_MAX_MEMORY_SIZE, answered 413 (relcrm/error_views.py).
"""

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json


def _depth(data) -> int:
    """How deeply ``data`` (decoded JSON) nests arrays and objects: 0 for a scalar."""
    deepest, pending = 0, [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        deepest = max(deepest, depth)
        pending.extend((item, depth + 1) for item in value)
    return deepest


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with a bound on the body's nesting.

    ``max_depth``: the deepest body the API takes nests three levels (an
    interaction with its promises); the bound leaves room and stops far short of
    the decoder's recursion limit.
    """

    max_depth = 32

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        body = stream.read()
        too_deep = ParseError(f"JSON nested deeper than {self.max_depth} levels.")
        try:
            data = json.loads(
                body.decode(encoding),
                parse_constant=json.strict_constant if self.strict else None,
            )
        except RecursionError:
            raise too_deep from None
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        if _depth(data) > self.max_depth:
            raise too_deep
        return data
