"""The walking skeleton's journey: a customer registers, logs in, listens on a
WebSocket, and sees the operator's new product (public push) and their own cart
change (private push) arrive, while every step between services is an event."""

from decimal import Decimal

from devtools.journeys import EventSocket, create_product, eventually, http, log_in_as_operator, register_and_log_in


def test_a_customer_sees_new_products_and_only_their_own_cart_updates_pushed(platform):
    with (
        http(platform) as client,
        EventSocket(platform.ws_url) as alice_socket,
        EventSocket(platform.ws_url) as bob_socket,
        EventSocket(platform.ws_url) as anonymous_socket,
    ):
        alice, bob = register_and_log_in(client), register_and_log_in(client)
        operator = log_in_as_operator(client)

        assert alice_socket.authenticate(alice) == {"type": "authenticated", "user_id": alice.id}
        assert bob_socket.authenticate(bob)["user_id"] == bob.id
        for socket in (alice_socket, bob_socket, anonymous_socket):
            assert socket.subscribe("catalog.product.created", "cart.updated")["type"] == "subscribed"

        product = create_product(client, operator, name="Walking skeleton mug", price="12.50", stock=10)

        # Public: every listener gets it, authenticated or not.
        for socket in (alice_socket, bob_socket, anonymous_socket):
            frame = socket.next_event("catalog.product.created", where=lambda d: d["product_id"] == product["id"])
            assert frame["data"]["name"] == "Walking skeleton mug"
            assert frame["id"]

        # The cart learns of the product only through the event, then Alice adds it.
        added = eventually(
            lambda: (
                client.post(
                    "/api/cart/items/", json={"product_id": product["id"], "quantity": 2}, headers=alice.headers
                ).status_code
                == 201
            )
        )
        assert added, "the cart never learned of the new product"

        frame = alice_socket.next_event("cart.updated")
        assert frame["data"]["user_id"] == alice.id
        assert Decimal(frame["data"]["total"]) == Decimal("25.00")
        bob_socket.assert_no_event("cart.updated")
        anonymous_socket.assert_no_event("cart.updated")

        cart = client.get("/api/cart/", headers=alice.headers).json()
        assert [(i["product_id"], i["quantity"]) for i in cart["items"]] == [(product["id"], 2)]
        assert Decimal(cart["total"]) == Decimal("25.00")
