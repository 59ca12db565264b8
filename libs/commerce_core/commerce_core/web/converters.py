"""Path converters shared by every service's URLs.

`<id:pk>` is Django's `<int:pk>` bounded to what an id column stores (1 to 2**63-1).
A number outside that range cannot name a row, so the URL simply does not match:
the client gets the platform's JSON 404, and the view never hands the database a
number it would fail on (SQLite's driver raises OverflowError past 64 bits).

The converter is registered once, when the `commerce_core.web` app is ready, and a
system check (`checks.py`) refuses any URL that still uses `<int:...>`.
"""

from django.urls import converters, register_converter

from .bounds import ID_MAX, ID_MAX_DIGITS, ID_MIN, ID_SCHEMA


class IdConverter:
    """The id of a row: digits only, between ID_MIN and ID_MAX."""

    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        # A ValueError makes the pattern not match, as a non-number already does.
        if len(value) > ID_MAX_DIGITS:
            raise ValueError(f"{value[:30]}... has more digits than any id")
        number = int(value)
        if not ID_MIN <= number <= ID_MAX:
            raise ValueError(f"{number} is not an id")
        return number

    def to_url(self, value) -> str:
        return str(int(value))


#: Converter name -> class, registered by `register()`.
CONVERTERS = {"id": IdConverter}

#: For drf-spectacular (SPECTACULAR_SETTINGS["PATH_CONVERTER_OVERRIDES"]): what each
#: converter accepts, so that the OpenAPI document states the bound.
PATH_CONVERTER_SCHEMAS = {"id": ID_SCHEMA}


def register() -> None:
    """Register the converters once per process (Django warns about registering twice)."""
    registered = converters.get_converters()
    for name, converter in CONVERTERS.items():
        if name not in registered:
            register_converter(converter, name)
