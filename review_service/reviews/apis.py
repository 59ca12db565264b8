"""Thin HTTP layer: validate input, call a service or selector, serialize output."""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticatedOrReadOnly
from rest_framework.response import Response

from commerce_core.web.fields import ColumnIntegerField, IdField
from commerce_core.web.filters import FilterSet, IdFilter
from commerce_core.web.openapi import error_response
from commerce_core.web.serializers import ModelOutputSerializer

from . import selectors, services
from .models import Review


class ReviewOutputSerializer(ModelOutputSerializer):
    product_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Review
        fields = ["id", "product_id", "user_id", "rating", "comment", "verified_purchase", "created_at"]


class ReviewInputSerializer(serializers.Serializer):
    product_id = IdField()
    rating = ColumnIntegerField(Review, "rating")
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ReviewFilter(FilterSet):
    # The replica's id, not a choice among the replicas: an unknown product has no reviews.
    product_id = IdFilter(field_name="product_id", label="Only the reviews of this product.")

    class Meta:
        model = Review
        fields = ["product_id"]


@extend_schema_view(
    get=extend_schema(
        tags=["reviews"],
        operation_id="reviews_list",
        summary="Reviews, newest first; public",
    )
)
class ReviewListCreateApi(generics.ListAPIView):
    permission_classes = [IsAuthenticatedOrReadOnly]
    serializer_class = ReviewOutputSerializer
    filterset_class = ReviewFilter
    ordering_fields = ["created_at", "rating"]
    search_fields = ["comment"]

    def get_queryset(self):
        return selectors.review_list()

    @extend_schema(
        tags=["reviews"],
        operation_id="reviews_create",
        summary="Review a product (once per customer and product)",
        request=ReviewInputSerializer,
        examples=[
            OpenApiExample(
                "Five stars", value={"product_id": 1, "rating": 5, "comment": "Keeps tea hot."}, request_only=True
            )
        ],
        responses={
            201: ReviewOutputSerializer,
            409: error_response("The caller has already reviewed this product (`already_reviewed`)."),
        },
    )
    def post(self, request):
        data = ReviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.review_create(user_id=request.user.id, **data.validated_data)
        return Response(ReviewOutputSerializer(review).data, status=status.HTTP_201_CREATED)
