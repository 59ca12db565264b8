"""Durable fanout across real processes: a service whose worker is down when an
event is published still gets it once the worker is back."""

from devtools.journeys import create_product, eventually, http, log_in_as_operator, register_and_log_in


def test_the_cart_learns_of_products_created_while_its_worker_was_stopped(platform):
    with http(platform) as client:
        customer = register_and_log_in(client)
        operator = log_in_as_operator(client)

        platform.platform.stop_process("cart-worker")
        try:
            product = create_product(client, operator, name="Created while the cart slept")
            # The cart's replica cannot know it yet: for the cart the product does not exist.
            refused = client.post(
                "/api/cart/items/", json={"product_id": product["id"], "quantity": 1}, headers=customer.headers
            )
            assert refused.status_code == 400
            assert "product_id" in refused.json()["error"]["fields"]
        finally:
            platform.platform.start_process("cart-worker")

        added = eventually(
            lambda: (
                client.post(
                    "/api/cart/items/", json={"product_id": product["id"], "quantity": 1}, headers=customer.headers
                ).status_code
                == 201
            ),
            timeout=30,
        )
        assert added, "the event published while the cart's worker was down was lost"
