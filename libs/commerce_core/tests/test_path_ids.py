"""Ids in URLs: `<id:pk>` takes what an id column stores and nothing else."""

import pytest
from django.core.checks import run_checks
from django.test import override_settings
from django.urls import path

from commerce_core.web.bounds import ID_MAX
from commerce_core.web.converters import IdConverter
from tests.inputapp.factories import make_item

pytestmark = pytest.mark.django_db

ITEMS = "/api/bustest/items/"


def test_an_item_is_found_by_its_id(api_client):
    item = make_item()
    response = api_client.get(f"{ITEMS}{item.pk}/")
    assert response.status_code == 200
    assert response.json()["id"] == item.pk


@pytest.mark.parametrize("item_id", [str(ID_MAX + 1), "9" * 5000, "0", "-1", "1.5", "1e3"])
def test_an_id_no_column_can_hold_is_a_404_in_the_error_shape(api_client, item_id):
    response = api_client.get(f"{ITEMS}{item_id}/")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


def test_the_largest_id_is_looked_up_and_simply_not_found(api_client):
    response = api_client.get(f"{ITEMS}{ID_MAX}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_converter_gives_back_the_id_it_read():
    converter = IdConverter()
    assert converter.to_python("42") == 42
    assert converter.to_url(42) == "42"
    with pytest.raises(ValueError):
        converter.to_python(str(ID_MAX + 1))


def _view(request, pk):
    raise AssertionError("never called")


urlpatterns_with_int = [path("things/<int:pk>/", _view), path("shelves/<id:pk>/", _view)]


@override_settings(ROOT_URLCONF=__name__)
def test_the_system_check_refuses_a_url_taking_an_unbounded_int():
    errors = [error for error in run_checks(tags=["urls"]) if error.id == "commerce_core.E001"]
    assert [error.obj for error in errors] == ["things/<int:pk>/"]


urlpatterns = urlpatterns_with_int
