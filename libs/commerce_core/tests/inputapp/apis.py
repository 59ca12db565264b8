"""A small API over the test models, built the way every service builds its own:
the shared defaults of REST_FRAMEWORK and the bounded fields of commerce_core.web."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from commerce_core.identity.permissions import IsStaffOrReadOnly
from commerce_core.web.fields import ColumnIntegerField, RelatedIdField
from commerce_core.web.serializers import ModelOutputSerializer

from .models import Item, Shelf


class ItemOutputSerializer(ModelOutputSerializer):
    class Meta:
        model = Item
        fields = ["id", "shelf", "name", "price", "count", "rating", "placed_at"]


class ItemInputSerializer(serializers.Serializer):
    shelf = RelatedIdField(queryset=Shelf.objects.all())
    name = serializers.CharField(max_length=40)
    price = serializers.DecimalField(max_digits=6, decimal_places=2)
    count = ColumnIntegerField(Item, "count", default=0)
    rating = ColumnIntegerField(Item, "rating", default=1)
    placed_at = serializers.DateTimeField()


class ItemListCreateApi(generics.ListAPIView):
    permission_classes = [IsStaffOrReadOnly]
    serializer_class = ItemOutputSerializer
    queryset = Item.objects.order_by("id")
    filterset_fields = {
        "shelf": ["exact"],
        "count": ["exact", "gte"],
        "price": ["lte"],
        "name": ["exact"],
        "placed_at": ["gte"],
    }
    search_fields = ["name"]
    ordering_fields = ["name", "price"]

    @extend_schema(request=ItemInputSerializer, responses={201: ItemOutputSerializer})
    def post(self, request):
        data = ItemInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = Item.objects.create(**data.validated_data)
        return Response(ItemOutputSerializer(item).data, status=status.HTTP_201_CREATED)


class ItemDetailApi(generics.GenericAPIView):
    serializer_class = ItemOutputSerializer
    queryset = Item.objects.all()

    def get(self, request, pk: int):
        return Response(ItemOutputSerializer(get_object_or_404(Item, pk=pk)).data)
