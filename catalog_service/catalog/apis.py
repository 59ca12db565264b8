"""Thin HTTP layer: validate input, call a service or selector, serialize output."""
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from commerce_core.identity.permissions import IsStaffOrReadOnly

from . import selectors, services
from .models import Product


class ProductOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "name", "description", "price", "stock", "is_active", "rating_avg", "rating_count",
                  "created_at", "updated_at"]


class ProductInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    stock = serializers.IntegerField(min_value=0, max_value=2_147_483_647, default=0)


class ProductListCreateApi(generics.ListAPIView):
    permission_classes = [IsStaffOrReadOnly]
    serializer_class = ProductOutputSerializer
    search_fields = ["name", "description"]
    ordering_fields = ["price", "name", "id", "created_at"]

    def get_queryset(self):
        return selectors.product_list()

    @extend_schema(request=ProductInputSerializer, responses={201: ProductOutputSerializer})
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

    @extend_schema(request=ProductUpdateInputSerializer, responses={200: ProductOutputSerializer})
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
