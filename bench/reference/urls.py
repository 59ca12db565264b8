from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

#: What the catalog answers for one product, so both sides render the same JSON.
PRODUCT = {
    "id": 1,
    "name": "Benchmark lamp 001",
    "description": "A product the read-path benchmark reads.",
    "price": "12.50",
    "stock": 10,
    "category": None,
    "is_active": True,
    "rating_avg": "0.00",
    "rating_count": 0,
    "created_at": "2026-01-01T00:00:00.000000Z",
    "updated_at": "2026-01-01T00:00:00.000000Z",
}


class ProductView(APIView):
    def get(self, request, pk: int):
        return Response(PRODUCT)


urlpatterns = [path("products/<int:pk>/", ProductView.as_view())]
