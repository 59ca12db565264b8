"""Query-string filters of the product list (django-filter, on the shared FilterSet
that bounds every filter by its column). A value that cannot name anything is a 400
in the common error shape, never an empty page or a 500."""

import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema_field

from commerce_core.web.filters import FilterSet

from . import selectors
from .models import Category, Product

SLUG_MAX_LENGTH = Category._meta.get_field("slug").max_length
# Up to 18 digits: every such number is a possible id (below 2**63).
_ID_OR_SLUG = re.compile(rf"[0-9]{{1,18}}|[-a-zA-Z0-9_]{{1,{SLUG_MAX_LENGTH}}}")


class CategoryField(forms.CharField):
    """A category named by its id or by its slug; cleans to the Category itself."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        if not _ID_OR_SLUG.fullmatch(value):
            raise ValidationError("Give a category id or slug.", code="invalid")
        category = selectors.category_by_id_or_slug(value)
        if category is None:
            raise ValidationError(f"There is no category {value!r}.", code="invalid_choice")
        return category


@extend_schema_field(
    {"type": "string", "maxLength": SLUG_MAX_LENGTH, "description": "A category id or slug; an unknown one is a 400."}
)
class CategoryFilter(django_filters.Filter):
    field_class = CategoryField

    def filter(self, qs, value):
        return qs if value is None else qs.filter(category=value)


class ProductFilter(FilterSet):
    category = CategoryFilter()

    class Meta:
        model = Product
        fields = ["category"]
