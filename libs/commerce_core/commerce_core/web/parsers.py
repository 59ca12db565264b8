"""The JSON parser of every service's API (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]).

DRF's own parser hands the body to `json.load`, which recurses once per nesting
level: `[[[[...` a few hundred kilobytes deep raises RecursionError, a 500. This one
parses with `json_limits.loads`, so such a body is a 400 `parse_error` in the
platform's error shape like any other malformed JSON. As DRF's does (STRICT_JSON),
it refuses NaN and Infinity, which are not JSON.
"""

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json as drf_json

from . import json_limits


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
            return json_limits.loads(text, parse_constant=drf_json.strict_constant if self.strict else None)
        except json_limits.JsonTooDeep as exc:
            raise ParseError(f"JSON parse error - {exc}.") from None
        except ValueError as exc:  # malformed JSON, or bytes that are not in `encoding`
            raise ParseError(f"JSON parse error - {exc}") from None
