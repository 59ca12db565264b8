import pytest

from edge.schema import merge_schemas


def _service_document(prefix: str, *, tag: str) -> dict:
    """A drf-spectacular-like document whose component names every service also uses."""
    return {
        "openapi": "3.0.3",
        "info": {"title": f"{tag} service", "version": "1.0.0"},
        "paths": {
            f"{prefix}items/": {
                "get": {
                    "operationId": "items_list",
                    "tags": [tag],
                    "security": [{"bearerAuth": []}, {}],
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/PaginatedItemList"}}
                            }
                        },
                        "400": {"$ref": "#/components/responses/Error"},
                    },
                },
            },
        },
        "components": {
            "schemas": {
                "Item": {"type": "object", "properties": {"kind": {"$ref": "#/components/schemas/Kind"}}},
                "Kind": {
                    "oneOf": [{"$ref": "#/components/schemas/Item"}],
                    "discriminator": {"propertyName": "t", "mapping": {"item": "#/components/schemas/Item"}},
                },
                "PaginatedItemList": {
                    "type": "object",
                    "properties": {"results": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}},
                },
                "Error": {"type": "object", "properties": {"service": {"type": "string", "enum": [tag]}}},
            },
            "responses": {
                "Error": {
                    "description": "error",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
            },
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
        "tags": [{"name": tag}],
    }


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolves(document: dict, ref: str) -> bool:
    node = document
    for part in ref.removeprefix("#/").split("/"):
        if part not in node:
            return False
        node = node[part]
    return True


@pytest.fixture
def merged():
    return merge_schemas(
        {
            "catalog": _service_document("/api/catalog/", tag="catalog"),
            "cart": _service_document("/api/cart/", tag="cart"),
        }
    )


def test_colliding_component_names_are_kept_apart_by_a_service_prefix(merged):
    schemas = merged["components"]["schemas"]
    assert {"CatalogError", "CartError", "CatalogPaginatedItemList", "CartPaginatedItemList"} <= set(schemas)
    assert schemas["CatalogError"]["properties"]["service"]["enum"] == ["catalog"]
    assert schemas["CartError"]["properties"]["service"]["enum"] == ["cart"]
    assert set(merged["components"]["responses"]) == {"CatalogError", "CartError"}


def test_every_ref_points_at_the_component_of_its_own_service(merged):
    refs = list(_refs(merged))
    assert refs and all(_resolves(merged, ref) for ref in refs)
    cart_list = merged["paths"]["/api/cart/items/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert cart_list["schema"]["$ref"] == "#/components/schemas/CartPaginatedItemList"
    assert merged["components"]["responses"]["CatalogError"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CatalogError"
    }


def test_discriminator_mappings_are_rewritten_too(merged):
    assert merged["components"]["schemas"]["CartKind"]["discriminator"]["mapping"] == {
        "item": "#/components/schemas/CartItem"
    }


def test_paths_tags_info_and_the_bearer_scheme_are_merged(merged):
    assert set(merged["paths"]) == {"/api/catalog/items/", "/api/cart/items/"}
    assert [tag["name"] for tag in merged["tags"]] == ["catalog", "cart"]
    assert merged["info"]["title"] == "Commerce platform API"
    assert "x-unavailable" not in merged["info"]
    assert merged["components"]["securitySchemes"] == {
        "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    assert merged["openapi"].startswith("3.")


def test_unavailable_services_are_named_in_the_info():
    merged = merge_schemas(
        {"catalog": _service_document("/api/catalog/", tag="catalog")}, unavailable=["review", "cart"]
    )
    assert merged["info"]["x-unavailable"] == ["cart", "review"]
    assert set(merged["paths"]) == {"/api/catalog/items/"}


def test_an_operation_id_already_used_by_another_service_gets_the_services_name(merged):
    assert merged["paths"]["/api/catalog/items/"]["get"]["operationId"] == "items_list"
    assert merged["paths"]["/api/cart/items/"]["get"]["operationId"] == "cart_items_list"
