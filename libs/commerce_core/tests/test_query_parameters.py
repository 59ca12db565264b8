"""Query parameters of lists: filters bounded by their columns, search, ordering and
pages. A value that cannot mean anything is a 400 naming the parameter."""

import django_filters
import pytest
from django.core.exceptions import ImproperlyConfigured

from commerce_core.web.filters import DjangoFilterBackend, FilterSet
from tests.inputapp.factories import make_item
from tests.inputapp.models import Item, Shelf

pytestmark = pytest.mark.django_db

ITEMS = "/api/bustest/items/"


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["results"]]


def assert_refused(response, parameter: str):
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert (error["code"], set(error["fields"])) == ("validation_error", {parameter})


@pytest.fixture
def items():
    kitchen = Shelf.objects.create(name="Kitchen")
    return {
        "mug": make_item(shelf=kitchen, name="Mug", price="9.90", count=3),
        "pan": make_item(shelf=kitchen, name="Pan", price="30.00", count=0),
        "book": make_item(name="Book", price="24.00", count=7),
    }


def test_filters_built_from_model_fields_filter(api_client, items):
    shelf = items["mug"].shelf_id
    assert names(api_client.get(ITEMS, {"shelf": shelf})) == ["Mug", "Pan"]
    assert names(api_client.get(ITEMS, {"count__gte": 3})) == ["Mug", "Book"]
    assert names(api_client.get(ITEMS, {"price__lte": "24.00"})) == ["Mug", "Book"]
    assert names(api_client.get(ITEMS, {"name": "Pan"})) == ["Pan"]
    assert names(api_client.get(ITEMS, {"placed_at__gte": "2025-12-31T23:00:00-01:00"})) == ["Mug", "Pan", "Book"]


def test_a_foreign_key_filter_with_an_id_that_names_nothing_lists_nothing(api_client, items):
    assert names(api_client.get(ITEMS, {"shelf": 2**63 - 1})) == []


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("shelf", str(2**63)),  # a foreign key: SQLite's driver would raise OverflowError
        ("shelf", str(2**80)),
        ("shelf", "1.5"),
        ("count", str(2**31)),  # PositiveIntegerField
        ("count", "-1"),
        ("count__gte", "1e3"),
        ("count", "nul\x00"),
        ("price__lte", "1e999999"),  # beyond NUMERIC(6, 2): an error on PostgreSQL
        ("price__lte", "123456"),
        ("price__lte", "NaN"),
        ("name", "x" * 41),  # longer than the column
        ("name", "nul\x00byte"),  # PostgreSQL refuses to compare it
        ("placed_at__gte", "9999-12-31T23:00:00-05:00"),  # no such moment in UTC
        ("placed_at__gte", "0001-01-01T00:00:00+01:00"),
        ("placed_at__gte", "tomorrow"),
    ],
)
def test_a_filter_value_its_column_cannot_hold_is_a_400_naming_the_parameter(api_client, items, parameter, value):
    assert_refused(api_client.get(ITEMS, {parameter: value}), parameter)


def test_search_finds_by_name(api_client, items):
    assert names(api_client.get(ITEMS, {"search": "pa"})) == ["Pan"]


@pytest.mark.parametrize("value", ["x" * 201, "nul\x00byte"])
def test_a_search_too_long_or_holding_nul_is_a_400(api_client, items, value):
    assert_refused(api_client.get(ITEMS, {"search": value}), "search")


def test_the_list_orders_by_the_listed_fields_and_then_by_id(api_client, items):
    make_item(name="Cup", price="9.90")
    assert names(api_client.get(ITEMS, {"ordering": "-price"})) == ["Pan", "Book", "Mug", "Cup"]
    assert names(api_client.get(ITEMS, {"ordering": "price,-name"})) == ["Mug", "Cup", "Book", "Pan"]


@pytest.mark.parametrize("value", ["count", "price,count", "price,", "--price", "price,name,price", "shelf__name"])
def test_an_ordering_by_anything_else_is_a_400(api_client, items, value):
    assert_refused(api_client.get(ITEMS, {"ordering": value}), "ordering")


def test_pages_follow_page_and_page_size(api_client, items):
    assert names(api_client.get(ITEMS, {"page_size": 2})) == ["Mug", "Pan"]
    assert names(api_client.get(ITEMS, {"page_size": 2, "page": 2})) == ["Book"]


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("page", "0"),
        ("page", "-1"),
        ("page", "last"),
        ("page", "1.5"),
        ("page", str(2**31)),
        ("page", "9" * 5000),
        ("page_size", "0"),
        ("page_size", "101"),
        ("page_size", "many"),
    ],
)
def test_a_page_or_page_size_that_is_no_such_number_is_a_400(api_client, items, parameter, value):
    assert_refused(api_client.get(ITEMS, {parameter: value}), parameter)


def test_a_page_past_the_last_is_a_404(api_client, items):
    response = api_client.get(ITEMS, {"page": 2**31 - 1})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_view_whose_filterset_does_not_bound_its_filters_is_refused():
    class UnboundedFilterSet(django_filters.FilterSet):
        class Meta:
            model = Shelf
            fields = ["id"]

    class View:
        filterset_class = UnboundedFilterSet

    with pytest.raises(ImproperlyConfigured):
        DjangoFilterBackend().get_filterset_class(View(), Shelf.objects.all())


def test_the_filterset_of_a_views_filterset_fields_is_declared_once():
    class View:
        filterset_fields = {"count": ["exact", "gte"], "name": ["exact"]}

    class OtherView:
        filterset_fields = ["count", "name"]

    backend = DjangoFilterBackend()
    first = backend.get_filterset_class(View(), Item.objects.all())
    assert backend.get_filterset_class(View(), Item.objects.all()) is first
    assert issubclass(first, FilterSet)
    assert set(first.base_filters) == {"count", "count__gte", "name"}
    other = backend.get_filterset_class(OtherView(), Item.objects.all())
    assert other is not first
    assert set(other.base_filters) == {"count", "name"}


def test_a_filterset_builds_its_form_class_once():
    class ItemFilter(FilterSet):
        class Meta:
            model = Item
            fields = ["count"]

    first, second = ItemFilter({"count": "3"}), ItemFilter({"count": "x"})
    assert first.get_form_class() is second.get_form_class()
    assert first.is_valid() and not second.is_valid()  # each its own form and fields
    assert first.form.fields["count"] is not second.form.fields["count"]


def test_a_filter_whose_choices_depend_on_the_request_gets_a_form_class_per_filterset():
    class ShelfFilter(FilterSet):
        shelf = django_filters.ModelChoiceFilter(queryset=lambda request: Shelf.objects.all())

        class Meta:
            model = Item
            fields = ["shelf"]

    assert ShelfFilter({}).get_form_class() is not ShelfFilter({}).get_form_class()
