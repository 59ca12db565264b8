"""Thin HTTP layer: validate input, call a service or selector, serialize output."""

from django.shortcuts import get_object_or_404
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


class ProductOutputSerializer(ModelOutputSerializer):
    class Meta:
        model = Product
        fields = [
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
        ]


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
        return selectors.product_list()

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
