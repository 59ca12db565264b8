"""Thin HTTP layer: validate input, call a service or selector, serialize output."""

import datetime
import decimal
import operator

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from commerce_core.identity.permissions import IsStaffOrReadOnly
from commerce_core.web.fields import TEXT_MAX_LENGTH, ColumnIntegerField, RelatedIdField
from commerce_core.web.filters import DjangoFilterBackend, OrderingFilter, SearchFilter
from commerce_core.web.openapi import error_response
from commerce_core.web.serializers import ModelOutputSerializer

from . import selectors, services
from .filters import ProductFilter
from .models import Category, Product

# --- products -----------------------------------------------------------------------------


#: What a product shows, in this order: the output's fields, each a column of the same
#: name (`category` reads the category's id).
PRODUCT_FIELDS = (
    "id",
    "name",
    "description",
    "price",
    "stock",
    "category",
    "is_active",
    "rating_avg",
    "rating_count",
    "created_at",
    "updated_at",
)
_product_columns = operator.attrgetter(*(f"{name}_id" if name == "category" else name for name in PRODUCT_FIELDS))
_PRICE_PLACES = decimal.Decimal(10) ** -Product._meta.get_field("price").decimal_places
_RATING_PLACES = decimal.Decimal(10) ** -Product._meta.get_field("rating_avg").decimal_places


def product_representation(columns: tuple) -> dict:
    """A product as its output serializer's fields would write it, from PRODUCT_FIELDS'
    columns (a row of `values_list(*PRODUCT_FIELDS)`, or read from an instance).

    Written out by hand because it is the bulk of a list page: DRF's fields cost about
    30 µs of CPU per product (a fresh decimal context for each quantize, the time zone
    of each date-time), twenty times a page. A decimal quantized to its places prints
    the same with str() as with DRF's `{:f}`, more cheaply. Every column is non-null
    except the category. test_product_api checks the output against DRF's fields."""
    (id_, name, description, price, stock, category, is_active, rating_avg, rating_count, created, updated) = columns
    return {
        "id": id_,
        "name": name,
        "description": description,
        "price": str(price.quantize(_PRICE_PLACES)),
        "stock": stock,
        "category": category,
        "is_active": is_active,
        "rating_avg": str(rating_avg.quantize(_RATING_PLACES)),
        "rating_count": rating_count,
        "created_at": _iso_datetime(created),
        "updated_at": _iso_datetime(updated),
    }


def _iso_datetime(value) -> str:
    """DRF's ISO 8601 in the default time zone, UTC written as `Z`."""
    zone = timezone.get_default_timezone()
    if value.tzinfo is datetime.UTC and getattr(zone, "key", None) == "UTC":
        # As the database hands it over: converting it to the same zone would cost
        # about a third of the formatting.
        return value.isoformat()[:-6] + "Z"
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class ProductOutputSerializer(ModelOutputSerializer):
    # No docstring: the OpenAPI document would take it for the schema's description.
    # The fields describe the output (the schema); product_representation writes it.
    class Meta:
        model = Product
        fields = list(PRODUCT_FIELDS)

    def to_representation(self, instance):
        return product_representation(_product_columns(instance))


class ProductInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_MAX_LENGTH)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    stock = ColumnIntegerField(Product, "stock", default=0)
    category = RelatedIdField(
        queryset=Category.objects.all(),
        allow_null=True,
        required=False,
        default=None,
        help_text="A category id, or null for none.",
    )


@extend_schema_view(
    get=extend_schema(
        description=(
            "The shop's active products, paginated. `?category=` takes a category id or slug, "
            "`?search=` looks in the name, the description and the category name, `?ordering=` "
            "takes `price`, `name`, `created_at` or `rating_avg`, each reversed with a leading `-` "
            "(anything else is a 400)."
        )
    )
)
class ProductListCreateApi(generics.ListAPIView):
    permission_classes = [IsStaffOrReadOnly]
    serializer_class = ProductOutputSerializer
    filter_backends = [DjangoFilterBackend, SearchFilter, OrderingFilter]
    filterset_class = ProductFilter
    search_fields = ["name", "description", "category__name"]
    ordering_fields = ["price", "name", "id", "created_at", "rating_avg"]

    def get_queryset(self):
        # Rows of the shown columns rather than model instances: building twenty
        # instances, then reading them back field by field, cost more than the query.
        return selectors.product_list_rows(PRODUCT_FIELDS)

    def list(self, request):
        queryset = self.get_queryset()
        rows = self.filter_queryset(queryset)
        if rows is queryset:
            # No filter, search or ordering was given: the query is the same at every
            # request, and so is its SQL; a product read again unchanged is written
            # from the memo of its row.
            products = selectors.product_list_rows_compiled(PRODUCT_FIELDS, product_representation)
            return self.get_paginated_response(self.paginate_queryset(products))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response([product_representation(row) for row in page])

    @extend_schema(
        request=ProductInputSerializer,
        responses={201: ProductOutputSerializer},
        description="Staff only.",
        examples=[
            OpenApiExample(
                "A mug",
                value={"name": "Enamel mug", "description": "350 ml.", "price": "12.50", "stock": 10, "category": None},
                request_only=True,
            )
        ],
    )
    def post(self, request):
        data = ProductInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.product_create(**data.validated_data)
        return Response(ProductOutputSerializer(product).data, status=status.HTTP_201_CREATED)


class ProductUpdateInputSerializer(ProductInputSerializer):
    is_active = serializers.BooleanField(required=False)


class ProductDetailApi(generics.GenericAPIView):
    permission_classes = [IsStaffOrReadOnly]
    serializer_class = ProductOutputSerializer
    queryset = Product.objects.all()

    def get(self, request, pk: int):
        return Response(ProductOutputSerializer(get_object_or_404(Product, pk=pk)).data)

    @extend_schema(
        request=ProductUpdateInputSerializer,
        responses={200: ProductOutputSerializer},
        examples=[OpenApiExample("A new price and stock", value={"price": "11.00", "stock": 8}, request_only=True)],
    )
    def patch(self, request, pk: int):
        get_object_or_404(Product, pk=pk)
        data = ProductUpdateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        product = services.product_update(product_id=pk, **data.validated_data)
        return Response(ProductOutputSerializer(product).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        get_object_or_404(Product, pk=pk)
        services.product_delete(product_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- categories ---------------------------------------------------------------------------


class CategoryOutputSerializer(ModelOutputSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug", "description", "created_at", "updated_at"]


class CategoryInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    slug = serializers.SlugField(
        max_length=100, required=False, allow_blank=True, help_text="Defaults to the slugified name."
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)


@extend_schema_view(get=extend_schema(description="Every category, by name, paginated."))
class CategoryListCreateApi(generics.ListAPIView):
    permission_classes = [IsStaffOrReadOnly]
    serializer_class = CategoryOutputSerializer
    # Categories are few; the product list is what gets searched and sorted.
    filter_backends = []

    def get_queryset(self):
        return selectors.category_list()

    @extend_schema(
        request=CategoryInputSerializer,
        responses={201: CategoryOutputSerializer},
        description="Staff only. The slug defaults to the slugified name.",
        examples=[OpenApiExample("A shelf", value={"name": "Kitchen", "slug": "kitchen"}, request_only=True)],
    )
    def post(self, request):
        data = CategoryInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        category = services.category_create(**data.validated_data)
        return Response(CategoryOutputSerializer(category).data, status=status.HTTP_201_CREATED)


class CategoryDetailApi(generics.GenericAPIView):
    permission_classes = [IsStaffOrReadOnly]
    serializer_class = CategoryOutputSerializer
    queryset = Category.objects.all()

    def get(self, request, pk: int):
        return Response(CategoryOutputSerializer(get_object_or_404(Category, pk=pk)).data)

    @extend_schema(request=CategoryInputSerializer, responses={200: CategoryOutputSerializer})
    def patch(self, request, pk: int):
        get_object_or_404(Category, pk=pk)
        data = CategoryInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        category = services.category_update(category_id=pk, **data.validated_data)
        return Response(CategoryOutputSerializer(category).data)

    @extend_schema(
        responses={204: None, 409: error_response("The category still holds products (`category_not_empty`).")},
        description="Staff only; a 409 while products are still in the category.",
    )
    def delete(self, request, pk: int):
        get_object_or_404(Category, pk=pk)
        services.category_delete(category_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
