"""Thin HTTP layer: read-only views of the caller's own payments."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from commerce_core.web.serializers import ModelOutputSerializer

from . import selectors
from .models import Payment


class PaymentOutputSerializer(ModelOutputSerializer):
    # Named field by field: the payment token and refund reference stay inside the service.
    class Meta:
        model = Payment
        fields = [
            "id",
            "order_id",
            "amount",
            "currency",
            "status",
            "provider_reference",
            "failure_reason",
            "created_at",
            "updated_at",
        ]
        # Output only, so the schema promises every field in every response.
        read_only_fields = fields


@extend_schema_view(
    get=extend_schema(tags=["payments"], operation_id="payments_list", summary="The caller's payments, newest first")
)
class PaymentListApi(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = PaymentOutputSerializer
    filterset_fields = ["status", "order_id"]
    ordering_fields = ["created_at", "amount"]

    def get_queryset(self):
        return selectors.payment_list(user_id=self.request.user.id)


class PaymentDetailApi(generics.GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = PaymentOutputSerializer
    # Declared so the schema generator knows the model; reads go through the selector.
    queryset = Payment.objects.none()

    @extend_schema(
        tags=["payments"],
        operation_id="payments_retrieve",
        summary="One of the caller's payments",
        responses={200: PaymentOutputSerializer},
    )
    def get(self, request, pk: int):
        payment = selectors.payment_get(user_id=request.user.id, payment_id=pk)
        return Response(PaymentOutputSerializer(payment).data)
