"""The OpenAPI document states each input's bounds and each error answer."""

import copy

from commerce_core.testing import openapi_audit
from commerce_core.web.bounds import ID_MAX

ITEMS, ITEM = "/api/bustest/items/", "/api/bustest/items/{id}/"
ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def parameter(operation: dict, name: str) -> dict:
    return next(p for p in operation["parameters"] if p["name"] == name)


def test_every_input_of_the_test_api_is_bounded(unbounded_inputs):
    assert unbounded_inputs == []


def test_path_ids_filters_and_pages_state_their_bounds(openapi_document):
    listing, detail = openapi_document["paths"][ITEMS]["get"], openapi_document["paths"][ITEM]["get"]
    assert parameter(detail, "id")["schema"] == {"type": "integer", "format": "int64", "minimum": 1, "maximum": ID_MAX}
    assert parameter(listing, "count")["schema"]["maximum"] == 2**31 - 1
    assert parameter(listing, "shelf")["schema"]["maximum"] == ID_MAX
    assert parameter(listing, "name")["schema"] == {"type": "string", "maxLength": 40}
    assert parameter(listing, "page_size")["schema"]["maximum"] == 100
    ordering = parameter(listing, "ordering")
    assert ordering["schema"]["items"]["enum"] == ["name", "-name", "price", "-price"]
    assert (ordering["style"], ordering["explode"]) == ("form", False)


def test_each_operation_declares_the_errors_it_answers_in_the_error_shape(openapi_document):
    paths = openapi_document["paths"]
    assert set(paths[ITEMS]["get"]["responses"]) == {"200", "400", "401", "404"}
    assert set(paths[ITEMS]["post"]["responses"]) == {"201", "400", "401", "403", "413", "415"}
    assert set(paths[ITEM]["get"]["responses"]) == {"200", "401", "404"}
    for status, response in paths[ITEMS]["post"]["responses"].items():
        if status != "201":
            assert response["content"] == ERROR


def test_the_error_shape_is_a_component(openapi_document):
    schemas = openapi_document["components"]["schemas"]
    assert schemas["Error"]["required"] == ["error"]
    assert set(schemas["ErrorDetail"]["properties"]) == {"code", "message", "fields"}


def test_the_audit_names_every_unbounded_input(openapi_document):
    document = copy.deepcopy(openapi_document)
    parameter(document["paths"][ITEM]["get"], "id")["schema"] = {"type": "integer"}
    parameter(document["paths"][ITEMS]["get"], "search")["schema"] = {"type": "string"}
    parameter(document["paths"][ITEMS]["get"], "ordering")["schema"].pop("maxItems")
    parameter(document["paths"][ITEMS]["get"], "count")["schema"]["maximum"] = 2**64
    body = document["components"]["schemas"]["ItemInputRequest"]["properties"]
    body["rating"].pop("minimum")
    body["price"] = {"type": "number"}
    body["extra"] = {}
    assert sorted(openapi_audit.unbounded_inputs(document)) == [
        "GET /api/bustest/items/ query parameter 'count': an integer whose maximum 18446744073709551616 is "
        "beyond 64 bits",
        "GET /api/bustest/items/ query parameter 'ordering': an array without maxItems",
        "GET /api/bustest/items/ query parameter 'search': a string without maxLength",
        "GET /api/bustest/items/{id}/ path parameter 'id': an integer without maximum",
        "GET /api/bustest/items/{id}/ path parameter 'id': an integer without minimum",
        "POST /api/bustest/items/ body (application/json).extra: a value of any type",
        "POST /api/bustest/items/ body (application/json).price: a number without maximum",
        "POST /api/bustest/items/ body (application/json).price: a number without minimum",
        "POST /api/bustest/items/ body (application/json).rating: an integer without minimum",
    ]
