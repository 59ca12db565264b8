"""JSON from clients, parsed with a bound on how deeply it nests.

Python's JSON decoder recurses once per nesting level, so a body of a few hundred
kilobytes of `[[[[...` raises RecursionError deep inside a request: a 500, for
input that is simply bad. Every JSON text a client sends (request bodies, socket
frames) is parsed by `loads`, which refuses anything nested deeper than
`MAX_JSON_DEPTH` with `JsonTooDeep`, a ValueError like any other malformed JSON.

No legitimate payload of this platform nests more than a handful of levels; 32
leaves ample room.
"""

import json
import re

MAX_JSON_DEPTH = 32

# What changes the nesting: brackets, and string boundaries (brackets inside
# strings do not count). A backslash always escapes the next character.
_STRUCTURE = re.compile(r'[\[\]{}"\\]')


class JsonTooDeep(ValueError):
    """The JSON text nests deeper than allowed."""


def nesting_depth_exceeds(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `text` opens more than `limit` arrays or objects inside each other.

    Counting every bracket is done in C (`str.count`); only a text with more
    brackets than the limit is scanned, and then only its structural characters.
    """
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8", errors="replace")
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    in_string = False
    escaped_position = -1  # the position a backslash inside a string escapes
    for match in _STRUCTURE.finditer(text):
        position, char = match.start(), match.group()
        if in_string:
            if position == escaped_position:
                continue
            if char == "\\":
                escaped_position = position + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def loads(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH, **options):
    """`json.loads(text, **options)`, refusing (JsonTooDeep) a text nested deeper than
    `max_depth`."""
    if nesting_depth_exceeds(text, max_depth):
        raise JsonTooDeep(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text, **options)
    except RecursionError:  # cannot happen below the limit; never let it become a 500
        raise JsonTooDeep(f"JSON nested deeper than {max_depth} levels") from None
