"""What a database column can store: the bounds of every integer a client sends.

An integer beyond its column never names a row, but handing it to the database is
not harmless: SQLite's driver raises OverflowError past 64 bits, PostgreSQL raises
DataError past the column's type, and either is a 500 for input that is merely out
of range. Django guards the lookups of an IntegerField itself, but not those that go
through a foreign key, nor inserts. So every integer taken from a path, a query or
a body is checked against its column before any query: by the `id` path converter
(`converters`), the filters (`filters`) and the serializer fields (`fields`), all of
which take their bounds from here.

The ranges are the SQL standard's, which PostgreSQL enforces. SQLite would store
any 64-bit integer in any integer column, but the API answers the same whatever the
database behind it.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations

#: (lowest, highest) per Django internal type of an integer column.
COLUMN_RANGES: dict[str, tuple[int, int]] = dict(BaseDatabaseOperations.integer_field_ranges)

#: Ids are BIGINT (DEFAULT_AUTO_FIELD is BigAutoField) and start at 1.
ID_MIN = 1
ID_MAX = COLUMN_RANGES["BigAutoField"][1]  # 2**63 - 1
#: The digits of the largest id: a longer number is refused before it is even converted.
ID_MAX_DIGITS = len(str(ID_MAX))

#: The OpenAPI schema of an id, wherever one is taken (path, query or body).
ID_SCHEMA = {"type": "integer", "format": "int64", "minimum": ID_MIN, "maximum": ID_MAX}


def storage_field(field: models.Field) -> models.Field:
    """The field whose column holds `field`'s value: a foreign key's target, else itself."""
    while field.is_relation and getattr(field, "target_field", None) is not None:
        field = field.target_field
    return field


def column_range(field: models.Field) -> tuple[int, int] | None:
    """The integers `field`'s column can store, narrowed by the field's own
    Min/MaxValueValidators; None when the column is not an integer."""
    stored = storage_field(field)
    bounds = COLUMN_RANGES.get(stored.get_internal_type())
    if bounds is None:
        return None
    lowest, highest = bounds
    # `_validators` are the ones the model declares; `validators` would add the
    # range of the database in use, which for SQLite is wider than the standard's.
    for validator in (*stored._validators, *(field._validators if field is not stored else ())):
        if isinstance(validator, MinValueValidator) and isinstance(validator.limit_value, int):
            lowest = max(lowest, validator.limit_value)
        elif isinstance(validator, MaxValueValidator) and isinstance(validator.limit_value, int):
            highest = min(highest, validator.limit_value)
    return lowest, highest


def integer_schema(lowest: int, highest: int) -> dict:
    """The OpenAPI schema of an integer between `lowest` and `highest`."""
    int32 = COLUMN_RANGES["IntegerField"]
    width = "int32" if int32[0] <= lowest and highest <= int32[1] else "int64"
    return {"type": "integer", "format": width, "minimum": lowest, "maximum": highest}
