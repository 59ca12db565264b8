"""The query-string filters of every list (REST_FRAMEWORK["DEFAULT_FILTER_BACKENDS"]).

A query parameter that cannot mean anything is a 400 in the platform's error shape
(`{"fields": {"<param>": [...]}}`), never a 500, an empty page or a silently
ignored parameter:

- `FilterSet` (django-filter) bounds every filter it builds from a model field by
  that field's column: integers (foreign keys included) by the column's range,
  decimals by their digits, strings by their max_length; a date-time that cannot be
  expressed in UTC is refused. Views with `filterset_fields` get it through
  `DjangoFilterBackend`; a view's own `filterset_class` must derive from it.
- `SearchFilter`: `?search=` up to `SEARCH_MAX_LENGTH` characters (NUL is refused
  by DRF already: PostgreSQL cannot compare a string holding one).
- `OrderingFilter`: `?ordering=` names only the view's `ordering_fields`, each
  reversed by a leading `-`; anything else is a 400 rather than ignored. Rows that
  tie are ordered by primary key, so consecutive pages neither repeat nor skip one.

Each also describes its parameter with its bounds in the OpenAPI document.
"""

import datetime
import functools

import django_filters
from django import forms
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models
from django_filters import rest_framework as drf_filters
from django_filters.fields import IsoDateTimeField
from django_filters.filters import QuerySetRequestMixin
from drf_spectacular.drainage import set_override
from rest_framework import exceptions, filters
from rest_framework.fields import CharField

from .bounds import ID_MAX, ID_MIN, column_range, integer_schema

#: The longest `?search=`: longer than any name the catalog stores.
SEARCH_MAX_LENGTH = 200

#: Lookups of an integer column whose value is one integer.
_SINGLE_VALUE_LOOKUPS = ("exact", "gt", "gte", "lt", "lte")


class IntegerFilter(django_filters.Filter):
    """A whole number from `min_value` to `max_value`; anything else is a 400."""

    field_class = forms.IntegerField

    def __init__(self, *args, min_value: int, max_value: int, **kwargs):
        super().__init__(*args, min_value=min_value, max_value=max_value, **kwargs)
        set_override(self, "field", integer_schema(min_value, max_value))


class IdFilter(IntegerFilter):
    """An id: 1 to 2**63-1. An id that names no row filters everything out."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", ID_MIN)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(*args, **kwargs)


class DecimalFilter(django_filters.NumberFilter):
    """A decimal with at most the column's digits: more could not be compared on
    PostgreSQL (an exponent beyond NUMERIC's is an error there)."""

    def __init__(self, *args, max_digits: int, decimal_places: int, **kwargs):
        super().__init__(*args, max_digits=max_digits, decimal_places=decimal_places, **kwargs)
        whole = max_digits - decimal_places
        set_override(
            self,
            "field",
            {"type": "string", "format": "decimal", "pattern": rf"^-?\d{{0,{whole}}}(?:\.\d{{0,{decimal_places}}})?$"},
        )


class CharFilter(django_filters.CharFilter):
    """A string up to the column's max_length (a longer one matches nothing stored)."""

    def __init__(self, *args, max_length: int | None = None, **kwargs):
        super().__init__(*args, max_length=max_length, **kwargs)
        if max_length is not None:
            set_override(self, "field", {"type": "string", "maxLength": max_length})


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time that exists in UTC: `9999-12-31T23:00-05:00` does not,
    and converting it (as the database adapter does) raises OverflowError."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is not None and moment.tzinfo is not None:
            try:
                moment = moment.astimezone(datetime.UTC)
            except OverflowError:
                raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        return moment


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class FilterSet(drf_filters.FilterSet):
    """django-filter's FilterSet, bounding each filter by its model field's column."""

    FILTER_DEFAULTS = {
        **drf_filters.FilterSet.FILTER_DEFAULTS,
        models.CharField: {"filter_class": CharFilter, "extra": lambda field: {"max_length": field.max_length}},
        models.DecimalField: {
            "filter_class": DecimalFilter,
            "extra": lambda field: {"max_digits": field.max_digits, "decimal_places": field.decimal_places},
        },
        models.DateTimeField: {"filter_class": DateTimeFilter},
    }

    def get_form_class(self):
        """The form class, built once per FilterSet class: django-filter declares a new
        one for every request (about 55 µs of CPU for the catalog's product list). The
        form deep-copies its fields per instance, so sharing the class is safe, unless
        a filter's field depends on the request (a callable `queryset`)."""
        form_class = type(self).__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            if not any(_depends_on_request(f) for f in self.filters.values()):
                type(self)._form_class = form_class
        return form_class

    @classmethod
    def given_nothing(cls, data) -> bool:
        """Whether `data` (the query string) leaves every filter without a value, as
        most requests of a list do. Such a request needs no filterset: with no value,
        each filter filters nothing (django-filter's own skip an empty value, and a
        filter of ours must too) and no field can fail, none being required. Building
        the filterset, its form and validating them cost about 75 µs of CPU for the
        catalog's product list. Only known once the form class is shared (above):
        until then, or when fields depend on the request, this answers False."""
        form_class = cls.__dict__.get("_form_class")
        if form_class is None:
            return False
        return all(
            not field.required and field.widget.value_omitted_from_data(data, {}, name)
            for name, field in form_class.base_fields.items()
        )

    @classmethod
    def filter_for_field(cls, field, field_name, lookup_expr=None):
        lookup = lookup_expr or "exact"
        bounds = column_range(field)
        if bounds is not None and lookup in _SINGLE_VALUE_LOOKUPS and not getattr(field, "choices", None):
            # Also a foreign key: its id, not a choice among every row (an unknown id
            # filters everything out; DRF's ModelChoiceField would query any integer).
            return IntegerFilter(field_name=field_name, lookup_expr=lookup, min_value=bounds[0], max_value=bounds[1])
        return super().filter_for_field(field, field_name, lookup_expr)


def _depends_on_request(filter_) -> bool:
    return isinstance(filter_, QuerySetRequestMixin) and callable(filter_.queryset)


class DjangoFilterBackend(drf_filters.DjangoFilterBackend):
    filterset_base = FilterSet

    def get_filterset_class(self, view, queryset=None):
        fields = getattr(view, "filterset_fields", None)
        if getattr(view, "filterset_class", None) is None and fields and queryset is not None:
            return _filterset_for_fields(self.filterset_base, queryset.model, _frozen(fields))
        filterset_class = super().get_filterset_class(view, queryset)
        if filterset_class is not None and not issubclass(filterset_class, FilterSet):
            raise ImproperlyConfigured(
                f"{view.__class__.__name__}.filterset_class must derive from commerce_core.web.filters.FilterSet, "
                "which bounds every filter by its column."
            )
        return filterset_class

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and filterset_class.given_nothing(request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)


def _frozen(fields) -> tuple:
    """`filterset_fields` (a list of names, or a dict of names to lookups) as a key."""
    if isinstance(fields, dict):
        return tuple((name, tuple(lookups)) for name, lookups in fields.items())
    return tuple((name, None) for name in fields)


@functools.cache
def _filterset_for_fields(base: type, model: type, fields: tuple) -> type:
    """The FilterSet of a view's `filterset_fields`, declared once per model and fields.
    django-filter declares it anew for every request, and declaring a FilterSet
    builds its filters: about 0.16 ms of CPU per request of the payments list."""
    if all(lookups is None for _name, lookups in fields):
        names = [name for name, _lookups in fields]
    else:
        names = {name: list(lookups) for name, lookups in fields}
    meta = type("Meta", (getattr(base, "Meta", object),), {"model": model, "fields": names})
    return type(f"{model.__name__}FilterSet", (base,), {"Meta": meta})


class SearchFilter(filters.SearchFilter):
    max_length = SEARCH_MAX_LENGTH

    def filter_queryset(self, request, queryset, view):
        if not self.get_search_fields(view, request):
            return queryset  # the view searches nothing: `?search=` is not one of its parameters
        return super().filter_queryset(request, queryset, view)

    def get_search_terms(self, request):
        value = request.query_params.get(self.search_param)
        if not value:
            return []  # no search: nothing to validate
        field = CharField(trim_whitespace=False, allow_blank=True, max_length=self.max_length)
        try:
            cleaned = field.run_validation(value)
        except exceptions.ValidationError as exc:
            raise exceptions.ValidationError({self.search_param: exc.detail}) from None
        return filters.search_smart_split(cleaned)

    def get_schema_operation_parameters(self, view):
        if not getattr(view, "search_fields", None):
            return []
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["maxLength"] = self.max_length
        return parameters


class OrderingFilter(filters.OrderingFilter):
    def orderable(self, queryset, view, request=None) -> list[str]:
        """The names `?ordering=` accepts on this view, without their `-`."""
        return [name for name, _label in self.get_valid_fields(queryset, view, {"request": request})]

    def get_ordering(self, request, queryset, view):
        param = request.query_params.get(self.ordering_param)
        if not param:
            ordering = self.get_default_ordering(view)
        else:
            allowed = self.orderable(queryset, view, request)
            ordering = [term.strip() for term in param.split(",")]
            unknown = [term for term in ordering if term.removeprefix("-") not in allowed]
            if unknown or len(ordering) > len(allowed):
                choices = ", ".join(allowed)
                raise exceptions.ValidationError(
                    {self.ordering_param: [f"Order by at most {len(allowed)} of {choices}, each reversed by a '-'."]}
                )
        if ordering and not any(term.removeprefix("-") in ("pk", "id") for term in ordering):
            ordering = [*ordering, "pk"]
        return ordering

    def get_schema_operation_parameters(self, view):
        queryset = getattr(view, "queryset", None)
        if queryset is None:  # DRF needs the model when the view lists no ordering_fields
            queryset = view.get_queryset()
        allowed = self.orderable(queryset, view)
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Order by these fields, in this order; a leading `-` reverses one.",
                "style": "form",
                "explode": False,
                "schema": {
                    "type": "array",
                    "maxItems": len(allowed),
                    "items": {"type": "string", "enum": [f"{sign}{name}" for name in allowed for sign in ("", "-")]},
                },
            }
        ]
