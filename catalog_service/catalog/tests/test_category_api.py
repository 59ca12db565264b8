import pytest

from catalog.models import Category

pytestmark = pytest.mark.django_db


def test_anyone_can_list_the_categories_by_name_page_by_page(api_client, make_category):
    make_category("Outdoor")
    make_category("Books")
    response = api_client.get("/api/catalog/categories/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [c["name"] for c in body["results"]] == ["Books", "Outdoor"]
    assert set(body["results"][0]) == {"id", "name", "slug", "description", "created_at", "updated_at"}


def test_anyone_can_read_one_category(api_client, make_category):
    category = make_category("Books")
    response = api_client.get(f"/api/catalog/categories/{category.pk}/")
    assert response.status_code == 200
    assert response.json()["slug"] == "books"


def test_staff_create_a_category_whose_slug_defaults_to_its_name(staff_client):
    response = staff_client.post("/api/catalog/categories/", {"name": "Coffee & Tea"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["slug"] == "coffee-tea"
    assert Category.objects.get().name == "Coffee & Tea"


def test_a_duplicate_category_name_or_slug_gets_field_errors(staff_client, make_category):
    make_category("Books", slug="books")
    response = staff_client.post("/api/catalog/categories/", {"name": "Books", "slug": "reading"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"name"}
    response = staff_client.post("/api/catalog/categories/", {"name": "Reading", "slug": "books"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"slug"}


def test_an_all_digit_slug_is_refused_because_it_would_read_as_an_id(staff_client):
    response = staff_client.post("/api/catalog/categories/", {"name": "2024", "slug": "2024"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"slug"}


def test_staff_rename_a_category(staff_client, make_category):
    category = make_category("Books")
    response = staff_client.patch(f"/api/catalog/categories/{category.pk}/", {"name": "Books & Maps"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Books & Maps"
    assert response.json()["slug"] == "books"  # links keep working after a rename


def test_staff_delete_an_empty_category(staff_client, make_category):
    category = make_category("Books")
    response = staff_client.delete(f"/api/catalog/categories/{category.pk}/")
    assert response.status_code == 204
    assert not Category.objects.exists()


def test_a_category_that_still_holds_products_cannot_be_deleted(staff_client, make_category, make_product):
    category = make_category("Books")
    make_product(category=category)
    response = staff_client.delete(f"/api/catalog/categories/{category.pk}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "category_not_empty"
    assert Category.objects.filter(pk=category.pk).exists()


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("post", "/api/catalog/categories/", {"name": "Books"}),
        ("patch", "/api/catalog/categories/{id}/", {"name": "Maps"}),
        ("delete", "/api/catalog/categories/{id}/", None),
    ],
)
def test_a_customer_may_not_change_categories(customer_client, make_category, method, path, body):
    category = make_category("Outdoor")
    response = getattr(customer_client, method)(path.format(id=category.pk), body, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert Category.objects.get().name == "Outdoor"


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("post", "/api/catalog/categories/", {"name": "Books"}),
        ("patch", "/api/catalog/categories/{id}/", {"name": "Maps"}),
        ("delete", "/api/catalog/categories/{id}/", None),
    ],
)
def test_an_anonymous_caller_is_told_to_authenticate_before_changing_categories(
    api_client, make_category, method, path, body
):
    category = make_category("Outdoor")
    response = getattr(api_client, method)(path.format(id=category.pk), body, format="json")
    assert response.status_code == 401
    assert Category.objects.get().name == "Outdoor"


def test_an_unknown_category_is_a_404_in_the_common_shape(api_client):
    response = api_client.get("/api/catalog/categories/999/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
