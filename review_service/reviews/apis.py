"""Thin HTTP layer: validate input, call a service or selector, serialize output."""

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticatedOrReadOnly
from rest_framework.response import Response

from . import selectors, services
from .models import Review


class ReviewOutputSerializer(serializers.ModelSerializer):
    product_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Review
        fields = ["id", "product_id", "user_id", "rating", "comment", "verified_purchase", "created_at"]


class ReviewInputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1)
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class IdFilter(django_filters.NumberFilter):
    """A whole number: `?product_id=1.5` is a 400 rather than an empty page."""

    field_class = forms.IntegerField


class ReviewFilter(django_filters.FilterSet):
    product_id = IdFilter(field_name="product_id")

    class Meta:
        model = Review
        fields = ["product_id"]


@extend_schema_view(
    get=extend_schema(
        tags=["reviews"],
        operation_id="reviews_list",
        summary="Reviews, newest first; public",
        parameters=[OpenApiParameter("product_id", OpenApiTypes.INT, description="Only the reviews of this product.")],
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
        responses={201: ReviewOutputSerializer},
    )
    def post(self, request):
        data = ReviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.review_create(user_id=request.user.id, **data.validated_data)
        return Response(ReviewOutputSerializer(review).data, status=status.HTTP_201_CREATED)
