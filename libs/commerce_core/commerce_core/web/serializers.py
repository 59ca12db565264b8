"""Output serializers that cost little per response and per row.

DRF builds a serializer's fields every time one is instantiated: a ModelSerializer
inspects its model and constructs every field (about 0.4 ms for the catalog's
product, eleven fields, on the development machine: more than the query that
loads the product), and a plain Serializer deep-copies its declared fields. A
detail view instantiates one serializer per request, so that construction was the
largest single cost of `GET /api/catalog/products/{id}/`.

`OutputSerializer` and `ModelOutputSerializer` build the fields the first time and
keep them, unbound, on the class; each instance then gets its own shallow copies,
bound to itself as DRF binds fields, so no field object is ever shared between two
serializers (or two threads). A field holding other fields (a nested serializer, a
list of them, a many-related field) is deep-copied instead, as DRF itself does,
since a shallow copy would share its children. Per row, they read a model's
columns with one getattr where DRF's generic lookup would come to the same value
(`FieldsBuiltOnceMixin.to_representation`), and date-times render in the default
time zone without looking up the active one for each value.

Use them for what a view returns, where the fields depend only on the class. A
serializer whose `get_fields()` looks at its instance, its context or the request
(fields chosen per request) must stay a plain DRF serializer.
"""

import copy
import operator

from django.conf import settings
from django.db import models
from django.utils import timezone
from rest_framework import serializers
from rest_framework.fields import DictField, Field, ListField, SkipField
from rest_framework.relations import ManyRelatedField, PKOnlyObject

#: Fields that hold other field objects, which a shallow copy would share.
_COMPOSITE_FIELDS = (serializers.BaseSerializer, ListField, DictField, ManyRelatedField)


class FieldsBuiltOnceMixin:
    """`get_fields()` runs once per class; instances get fresh copies of the result."""

    def get_fields(self):
        # Looked up in the class's own __dict__: a subclass builds its own set.
        built = type(self).__dict__.get("_fields_built_once")
        if built is None:
            built = super().get_fields()
            for field in built.values():
                _fix_time_zone(field)
            type(self)._fields_built_once = built
        return {name: _fresh_copy(field) for name, field in built.items()}

    def to_representation(self, instance):
        """DRF's `Serializer.to_representation`, reading a model's columns directly.

        A field that shows a column of the instance's model under the column's own
        name, and reads it the way every DRF field does, gets it with one getattr:
        DRF's generic lookup (for dicts, callables and dotted sources) costs about
        0.6 µs per field and row. Any other field, or any other kind of instance,
        goes DRF's way. The plan is made once per serializer: once per response,
        however many rows a list holds."""
        plan = self.__dict__.get("_representation_plan")
        if plan is None or plan[0] is not type(instance):
            plan = self._representation_plan = (type(instance), _representation_plan(self, type(instance)))
        ret = {}
        for field, read_column in plan[1]:
            if read_column is not None:
                attribute = check_for_none = read_column(instance)
            else:
                try:
                    attribute = field.get_attribute(instance)
                except SkipField:
                    continue
                check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            ret[field.field_name] = None if check_for_none is None else field.to_representation(attribute)
        return ret


def _representation_plan(serializer, instance_type: type) -> list:
    """(field, getter of its column or None) for each field the serializer shows."""
    columns = set()
    if issubclass(instance_type, models.Model):
        columns = {column.attname for column in instance_type._meta.concrete_fields}
    return [
        (
            field,
            operator.attrgetter(field.source)
            if field.source in columns and type(field).get_attribute is Field.get_attribute
            else None,
        )
        for field in serializer._readable_fields
    ]


def _fix_time_zone(field) -> None:
    """A date-time field without a time zone of its own renders in the default one
    (TIME_ZONE), fixed now instead of looked up for every value: DRF would ask for
    the active time zone (a context-local lookup, about 6 µs) for each date-time it
    writes, twice per row of a list. No view of the platform activates another."""
    if isinstance(field, serializers.DateTimeField) and not hasattr(field, "timezone") and settings.USE_TZ:
        field.timezone = timezone.get_default_timezone()


def _fresh_copy(field):
    if isinstance(field, _COMPOSITE_FIELDS):
        return copy.deepcopy(field)
    # copy.copy() would do the same through __reduce_ex__, at several times the cost.
    clone = object.__new__(type(field))
    clone.__dict__.update(field.__dict__)
    return clone


class OutputSerializer(FieldsBuiltOnceMixin, serializers.Serializer):
    """A Serializer for responses (see the module's docstring)."""


class ModelOutputSerializer(FieldsBuiltOnceMixin, serializers.ModelSerializer):
    """A ModelSerializer for responses (see the module's docstring)."""
