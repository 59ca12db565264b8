"""Serializer fields for integers a client sends, bounded by the column they end in.

DRF's IntegerField takes any integer; one beyond its column fails in the database
(see `bounds`). Input serializers take integers through these fields instead, and
every service's tests audit its OpenAPI document for an input without bounds
(`commerce_core.testing.openapi_audit`), so a plain IntegerField does not slip in.

Strings need no field of their own: DRF's CharField refuses NUL (which PostgreSQL
cannot store) and lone surrogates; give it the column's `max_length`, or
`TEXT_MAX_LENGTH` for a TEXT column. DecimalField requires its digits anyway.
"""

from django.db import models
from rest_framework import serializers

from .bounds import ID_MAX, ID_MIN, column_range

#: The longest text taken for a TEXT column (a description), which has no bound of
#: its own: several pages of prose, and still a bound on what one field may hold.
TEXT_MAX_LENGTH = 10_000


class IdField(serializers.IntegerField):
    """The id of a row, as a body names it: 1 to 2**63-1."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", ID_MIN)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)


class ColumnIntegerField(serializers.IntegerField):
    """An integer stored in `model.field_name`: bounded by what that column stores and
    by the model field's own Min/MaxValueValidators. `min_value` and `max_value` may
    narrow the range further, never widen it.

        quantity = ColumnIntegerField(CartItem, "quantity", min_value=1)
    """

    def __init__(self, model: type[models.Model], field_name: str, **kwargs):
        bounds = column_range(model._meta.get_field(field_name))
        if bounds is None:
            raise TypeError(f"{model.__name__}.{field_name} is not stored as an integer")
        lowest, highest = bounds
        kwargs["min_value"] = max(lowest, kwargs.get("min_value", lowest))
        kwargs["max_value"] = min(highest, kwargs.get("max_value", highest))
        super().__init__(**kwargs)


class RelatedIdField(IdField):
    """The id of a row of `queryset`, cleaned to the row itself; an id that names no
    row is a field error. DRF's PrimaryKeyRelatedField would query any integer, and a
    number past 64 bits raises OverflowError, which it does not catch."""

    default_error_messages = {"does_not_exist": "There is no {name} {pk_value}."}

    def __init__(self, *, queryset: models.QuerySet, **kwargs):
        self.queryset = queryset
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        pk = super().run_validation(data)  # the id, checked against its bounds
        if pk is None:
            return None
        row = self.queryset.filter(pk=pk).first()
        if row is None:
            self.fail("does_not_exist", name=self.queryset.model._meta.verbose_name, pk_value=pk)
        return row

    def to_representation(self, value):
        return getattr(value, "pk", value)
