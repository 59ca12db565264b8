"""Thin HTTP layer: validate input, call a service or selector, serialize output.

Every endpoint is the caller's own cart; the caller is whoever the gateway vouched for."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce_core.web.fields import ColumnIntegerField, IdField
from commerce_core.web.serializers import OutputSerializer

from . import selectors, services
from .models import CartItem


class CartLineOutputSerializer(OutputSerializer):
    product_id = serializers.IntegerField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2)


class CartOutputSerializer(OutputSerializer):
    items = CartLineOutputSerializer(many=True)
    total = serializers.DecimalField(max_digits=14, decimal_places=2)


class CartItemAddInputSerializer(serializers.Serializer):
    product_id = IdField()
    quantity = ColumnIntegerField(CartItem, "quantity", min_value=1, default=1)


class CartItemUpdateInputSerializer(serializers.Serializer):
    quantity = ColumnIntegerField(CartItem, "quantity", min_value=1)


class CartApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["cart"],
        operation_id="cart_retrieve",
        summary="The caller's cart, at current prices",
        responses={200: CartOutputSerializer},
    )
    def get(self, request):
        contents = selectors.cart_contents(user_id=request.user.id)
        return Response(CartOutputSerializer(contents).data)


class CartItemAddApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["cart"],
        operation_id="cart_item_add",
        summary="Add a product to the cart (adding one already there raises its quantity)",
        request=CartItemAddInputSerializer,
        responses={201: CartOutputSerializer},
        examples=[OpenApiExample("Two of a product", value={"product_id": 1, "quantity": 2}, request_only=True)],
    )
    def post(self, request):
        data = CartItemAddInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contents = services.cart_item_add(user_id=request.user.id, **data.validated_data)
        return Response(CartOutputSerializer(contents).data, status=status.HTTP_201_CREATED)


class CartItemDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["cart"],
        operation_id="cart_item_update",
        summary="Set the quantity of a product in the cart",
        request=CartItemUpdateInputSerializer,
        responses={200: CartOutputSerializer},
        examples=[OpenApiExample("Three", value={"quantity": 3}, request_only=True)],
    )
    def patch(self, request, product_id: int):
        data = CartItemUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contents = services.cart_item_set_quantity(
            user_id=request.user.id, product_id=product_id, **data.validated_data
        )
        return Response(CartOutputSerializer(contents).data)

    @extend_schema(
        tags=["cart"], operation_id="cart_item_remove", summary="Take a product out of the cart", responses={204: None}
    )
    def delete(self, request, product_id: int):
        services.cart_item_remove(user_id=request.user.id, product_id=product_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
