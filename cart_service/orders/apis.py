"""Thin HTTP layer of checkout and orders: validate input, call a service or selector,
serialize output. Every endpoint is about the caller's own orders."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce_core.web.errors import ApplicationError
from commerce_core.web.serializers import OutputSerializer

from . import selectors, services
from .models import OrderStatus

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX_LENGTH = 255


class StrictCharField(serializers.CharField):
    """A JSON string only: DRF's CharField would also take 42 and make it "42"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CheckoutInputSerializer(serializers.Serializer):
    payment_token = StrictCharField(max_length=255, help_text="The card token, e.g. `tok_visa`.")


class CheckoutOutputSerializer(OutputSerializer):
    order_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=OrderStatus.choices)


class OrderLineOutputSerializer(OutputSerializer):
    product_id = serializers.IntegerField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2)


class OrderOutputSerializer(OutputSerializer):
    id = serializers.IntegerField()
    order_id = serializers.IntegerField(source="pk", help_text="The same as `id`, named as checkout names it.")
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    reason = serializers.CharField(help_text="Why the order failed or was cancelled; empty otherwise.")
    items = OrderLineOutputSerializer(source="line_list", many=True)
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def idempotency_key(request) -> str | None:
    """The request's `Idempotency-Key`, or None without one; a malformed key is a 400."""
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if key is None:
        return None
    if not key or len(key) > IDEMPOTENCY_KEY_MAX_LENGTH or not key.isprintable():
        raise ApplicationError(
            "Invalid input.",
            code="validation_error",
            fields={IDEMPOTENCY_KEY_HEADER: [f"Must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} printable characters."]},
        )
    return key


class CheckoutApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["orders"],
        operation_id="cart_checkout",
        summary="Order what is in the cart",
        description=(
            "Moves the cart's lines into a `pending` order and starts the checkout: the catalog reserves the "
            "stock, then the payment is charged, and the order becomes `paid`, `failed` or `cancelled` (follow "
            "it with `GET /api/cart/orders/{order_id}/` or the `order.status_changed` push). The cart is empty "
            "once the order is placed; a `failed` or `cancelled` order puts its lines back in the cart.\n\n"
            "A cart is ordered once: while the customer's order is `pending`, another checkout is refused with "
            "409 `checkout_in_progress`, with or without an `Idempotency-Key` (a double click places one order).\n\n"
            "With an `Idempotency-Key`, the first answer is kept and a retry with the same key gets it again "
            "(with `Idempotent-Replayed: true`) instead of placing a second order; reusing a key with another "
            "`payment_token` is a 422 `idempotency_key_reused`. A 409 is not kept: the key works once the "
            "pending order has ended."
        ),
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_KEY_HEADER,
                {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH, "pattern": "^[!-~]+$"},
                OpenApiParameter.HEADER,
                description="Any printable string up to 255 characters, unique per checkout attempt (say a UUID).",
            )
        ],
        request=CheckoutInputSerializer,
        examples=[OpenApiExample("A card that is charged", value={"payment_token": "tok_visa"}, request_only=True)],
        responses={
            202: CheckoutOutputSerializer,
            400: OpenApiResponse(
                description="Invalid input, an empty cart (`cart_empty`), or products the "
                "catalog no longer sells in that quantity (`products_unavailable`)."
            ),
            409: OpenApiResponse(
                description="Another order of the caller is still pending (`checkout_in_progress`); check out "
                "again once it is paid, failed or cancelled."
            ),
            422: OpenApiResponse(description="The Idempotency-Key was used before with another body."),
        },
    )
    def post(self, request):
        key = idempotency_key(request)
        data = CheckoutInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if key is None:
            order = services.order_place(user_id=request.user.id, **data.validated_data)
            return Response(
                CheckoutOutputSerializer(services.checkout_body(order)).data, status=status.HTTP_202_ACCEPTED
            )
        answer = services.order_checkout(user_id=request.user.id, idempotency_key=key, **data.validated_data)
        headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
        return Response(answer.body, status=answer.status_code, headers=headers)


@extend_schema_view(
    get=extend_schema(tags=["orders"], operation_id="orders_list", summary="The caller's orders, newest first")
)
class OrderListApi(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = OrderOutputSerializer
    filter_backends = []  # always newest first

    def get_queryset(self):
        return selectors.order_list(user_id=self.request.user.id)


class OrderDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["orders"],
        operation_id="orders_retrieve",
        summary="One of the caller's orders",
        responses={200: OrderOutputSerializer},
    )
    def get(self, request, order_id: int):
        order = selectors.order_get(user_id=request.user.id, order_id=order_id)
        return Response(OrderOutputSerializer(order).data)
