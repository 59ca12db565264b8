from decimal import Decimal

import pytest
from carts.models import CartItem, ProductReplica
from carts.services import cart_item_add
from django.db import IntegrityError, transaction

from commerce_core.events.contracts.catalog import ProductPriceChanged, ProductStockChanged
from commerce_core.events.models import OutboxMessage
from orders import services
from orders.models import IdempotencyRecord, Order, OrderLine

from .conftest import checkout

pytestmark = pytest.mark.django_db


def published(event_type):
    return [m.envelope["data"] for m in OutboxMessage.objects.filter(event_type=event_type).order_by("created_at")]


def test_checkout_answers_202_with_a_pending_order_of_the_cart(customer, filled_cart):
    mug, pot = filled_cart
    response = checkout(customer)
    assert response.status_code == 202, response.content
    order = Order.objects.get()
    assert response.json() == {"order_id": order.pk, "status": "pending"}
    assert (order.user_id, order.status, str(order.total)) == (customer.principal.id, "pending", "28.00")
    assert [(line.product_id, line.quantity, str(line.unit_price)) for line in OrderLine.objects.order_by("id")] == [
        (mug, 2, "12.50"),
        (pot, 1, "3.00"),
    ]


def test_checkout_stores_order_placed_and_order_status_changed_in_the_outbox(
    customer, filled_cart, django_capture_on_commit_callbacks
):
    mug, pot = filled_cart
    user_id = customer.principal.id
    # Nothing reaches Redis: the on-commit sends are captured and not run.
    with django_capture_on_commit_callbacks(execute=False) as sends:
        order_id = checkout(customer, "tok_visa").json()["order_id"]
    assert len(sends) == 3  # order.placed, order.status_changed, and cart.updated for the emptied cart
    assert published("order.placed") == [
        {
            "order_id": order_id,
            "user_id": user_id,
            "total": "28.00",
            "payment_token": "tok_visa",
            "items": [
                {"product_id": mug, "quantity": 2, "unit_price": "12.50"},
                {"product_id": pot, "quantity": 1, "unit_price": "3.00"},
            ],
        }
    ]
    assert published("order.status_changed") == [
        {"order_id": order_id, "user_id": user_id, "status": "pending", "reason": ""}
    ]
    assert OutboxMessage.objects.get(event_type="order.placed").subject == f"order/{order_id}"


def test_checkout_takes_the_lines_out_of_the_cart_and_announces_it(customer, filled_cart):
    checkout(customer)

    assert customer.get("/api/cart/").json() == {"items": [], "total": "0.00"}
    assert published("cart.updated")[-1] == {"user_id": customer.principal.id, "items": [], "total": "0.00"}


def test_a_product_added_after_checkout_stays_in_the_cart_for_the_next_order(customer, filled_cart, catalog_product):
    checkout(customer)
    cup = catalog_product(price="1.00")
    cart_item_add(user_id=customer.principal.id, product_id=cup, quantity=1)

    assert [item["product_id"] for item in customer.get("/api/cart/").json()["items"]] == [cup]


# --- a cart is ordered once ------------------------------------------------------------------


@pytest.mark.parametrize("second_key", [None, "checkout-2"])
def test_a_second_checkout_while_the_order_is_pending_is_refused_with_409(customer, filled_cart, second_key):
    first = checkout(customer, key="checkout-1" if second_key else None)

    second = checkout(customer, key=second_key)

    order = Order.objects.get()
    assert second.status_code == 409
    error = second.json()["error"]
    assert error["code"] == "checkout_in_progress"
    assert f"Order {order.pk} is still pending" in error["message"]
    assert first.json()["order_id"] == order.pk
    assert OutboxMessage.objects.filter(event_type="order.placed").count() == 1


def test_a_checkout_while_the_order_is_pending_is_refused_even_with_new_lines_in_the_cart(
    customer, filled_cart, catalog_product
):
    checkout(customer)
    cart_item_add(user_id=customer.principal.id, product_id=catalog_product(), quantity=1)

    assert checkout(customer).status_code == 409
    assert Order.objects.count() == 1


def test_the_409_is_not_stored_against_the_key_which_works_once_the_order_ends(customer, filled_cart):
    first = checkout(customer, key="checkout-1").json()["order_id"]
    assert checkout(customer, key="checkout-2").status_code == 409
    assert not IdempotencyRecord.objects.filter(key="checkout-2").exists()

    services.order_fail(order_id=first, reason="Your card was declined.")

    retried = checkout(customer, key="checkout-2")
    assert retried.status_code == 202
    assert "Idempotent-Replayed" not in retried.headers
    assert Order.objects.count() == 2


def test_a_retry_with_the_first_key_still_replays_the_first_answer_while_pending(customer, filled_cart):
    first = checkout(customer, key="checkout-1")

    retry = checkout(customer, key="checkout-1")

    assert (retry.status_code, retry.json(), retry.headers["Idempotent-Replayed"]) == (202, first.json(), "true")


@pytest.mark.parametrize("end", ["order_fail", "order_cancel"])
def test_a_failed_or_cancelled_order_gives_its_lines_back_and_the_cart_can_be_ordered_again(customer, filled_cart, end):
    mug, pot = filled_cart
    order_id = checkout(customer).json()["order_id"]

    getattr(services, end)(order_id=order_id, reason="Your card was declined.")

    assert [(i["product_id"], i["quantity"]) for i in customer.get("/api/cart/").json()["items"]] == [
        (mug, 2),
        (pot, 1),
    ]
    again = checkout(customer)
    assert again.status_code == 202 and again.json()["order_id"] != order_id


def test_a_paid_order_lets_the_next_checkout_through(customer, filled_cart, catalog_product):
    services.order_mark_paid(order_id=checkout(customer).json()["order_id"])
    cart_item_add(user_id=customer.principal.id, product_id=catalog_product(), quantity=1)

    assert checkout(customer).status_code == 202


def test_the_order_keeps_the_price_of_the_moment_of_checkout(customer, filled_cart, deliver):
    mug, _ = filled_cart
    order_id = checkout(customer).json()["order_id"]
    deliver(ProductPriceChanged(product_id=mug, old_price=Decimal("12.50"), price=Decimal("99.00")))
    assert customer.get(f"/api/cart/orders/{order_id}/").json()["total"] == "28.00"


def test_an_empty_cart_cannot_be_checked_out(customer):
    response = checkout(customer)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "cart_empty"
    assert not Order.objects.exists()
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"payment_token": ""},
        {"payment_token": "   "},
        {"payment_token": None},
        {"payment_token": 42},
        {"payment_token": ["tok_visa"]},
        {"payment_token": "t" * 256},
    ],
)
def test_a_missing_blank_or_malformed_payment_token_is_a_field_error(customer, filled_cart, body):
    response = customer.post("/api/cart/checkout/", body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"payment_token"}
    assert not Order.objects.exists()


def test_a_payment_token_of_255_characters_is_accepted(customer, filled_cart):
    assert checkout(customer, "t" * 255).status_code == 202


def test_a_line_whose_product_was_deleted_refuses_the_checkout_naming_it(customer, filled_cart):
    mug, pot = filled_cart
    # catalog.product.deleted takes the product out of every cart, but a line added
    # while that deletion was being applied can outlive it.
    ProductReplica.objects.filter(pk=mug).update(is_deleted=True)

    response = checkout(customer)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "products_unavailable"
    assert str(mug) in error["message"]
    assert str(pot) not in error["message"]
    assert not Order.objects.exists()
    assert not OutboxMessage.objects.filter(event_type__startswith="order.").exists()


def test_a_line_above_the_replicas_stock_refuses_the_checkout_naming_only_that_product(customer, filled_cart, deliver):
    mug, pot = filled_cart
    deliver(ProductStockChanged(product_id=pot, stock=0))
    response = checkout(customer)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "products_unavailable"
    assert str(pot) in error["message"]
    assert str(mug) not in error["message"]
    assert not Order.objects.exists()


def test_an_anonymous_caller_is_told_to_authenticate(api_client):
    response = checkout(api_client)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


# --- Idempotency-Key ---------------------------------------------------------------------


def test_a_retry_with_the_same_key_gets_the_first_answer_and_places_no_second_order(customer, filled_cart):
    first = checkout(customer, key="checkout-1")
    retry = checkout(customer, key="checkout-1")
    assert first.status_code == retry.status_code == 202
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert Order.objects.count() == 1
    assert OutboxMessage.objects.filter(event_type="order.placed").count() == 1


def test_the_retry_gets_the_first_answer_even_after_the_order_moved_on(customer, filled_cart):
    first = checkout(customer, key="checkout-1").json()
    Order.objects.update(status="paid")
    assert checkout(customer, key="checkout-1").json() == first == {"order_id": first["order_id"], "status": "pending"}


def test_another_key_places_another_order_once_the_first_has_ended(customer, filled_cart):
    first = checkout(customer, key="checkout-1").json()["order_id"]
    services.order_fail(order_id=first, reason="Your card was declined.")
    assert checkout(customer, key="checkout-2").status_code == 202
    assert Order.objects.count() == 2


def test_the_same_key_of_two_customers_places_two_orders(customer, filled_cart, api_client_factory, catalog_product):
    someone_else = api_client_factory()
    cart_item_add(user_id=someone_else.principal.id, product_id=catalog_product(), quantity=1)
    assert checkout(customer, key="same").status_code == 202
    assert checkout(someone_else, key="same").status_code == 202
    assert Order.objects.count() == 2


def test_the_same_key_with_another_payment_token_is_refused_with_422(customer, filled_cart):
    checkout(customer, "tok_visa", key="checkout-1")
    response = checkout(customer, "tok_chargeDeclined", key="checkout-1")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


def test_a_refused_checkout_is_replayed_too_even_once_the_cart_is_filled(customer, mug_and_pot):
    # Like Stripe: once checkout has run, its answer, refusal included, is the key's answer.
    refused = checkout(customer, key="checkout-1")
    assert refused.status_code == 400
    cart_item_add(user_id=customer.principal.id, product_id=mug_and_pot[0], quantity=1)
    retry = checkout(customer, key="checkout-1")
    assert (retry.status_code, retry.json()) == (400, refused.json())
    assert not Order.objects.exists()
    assert checkout(customer, key="checkout-2").status_code == 202


def test_invalid_input_is_not_stored_against_the_key(customer, filled_cart):
    assert customer.post("/api/cart/checkout/", {}, format="json", HTTP_IDEMPOTENCY_KEY="checkout-1").status_code == 400
    assert not IdempotencyRecord.objects.exists()
    assert checkout(customer, key="checkout-1").status_code == 202


def test_the_first_answer_is_stored_per_customer_and_key(customer, filled_cart):
    response = checkout(customer, key="checkout-1")
    record = IdempotencyRecord.objects.get()
    assert (record.user_id, record.key, record.status_code, record.body) == (
        customer.principal.id,
        "checkout-1",
        202,
        response.json(),
    )
    assert record.order_id == response.json()["order_id"]
    # Only a hash of the input is kept to compare retries with: never the token itself.
    assert "tok_visa" not in str(IdempotencyRecord.objects.values().get())


@pytest.mark.parametrize("key", ["", "k" * 256, "line\nbreak", "tab\there"])
def test_an_empty_overlong_or_unprintable_key_is_a_400(customer, filled_cart, key):
    response = checkout(customer, key=key)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"Idempotency-Key"}
    assert not Order.objects.exists()


def test_a_key_of_255_printable_characters_is_accepted(customer, filled_cart):
    key = "a-Z 0~!" * 36 + "abc"
    assert len(key) == 255
    assert checkout(customer, key=key).status_code == 202
    assert checkout(customer, key=key).headers["Idempotent-Replayed"] == "true"


def test_the_database_itself_refuses_a_second_pending_order_of_one_customer(placed_order):
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(user_id=placed_order.user_id, status="pending", total="1.00")
    # Once the first order has ended, another may be pending.
    Order.objects.filter(pk=placed_order.pk).update(status="paid")
    Order.objects.create(user_id=placed_order.user_id, status="pending", total="1.00")


def test_a_pending_order_the_check_did_not_see_is_still_a_409_and_leaves_the_cart_whole(
    customer, filled_cart, monkeypatch
):
    # Another checkout's order committed between this one's check and its insert: the
    # one-pending-order constraint refuses the insert, without an error of the database.
    Order.objects.create(user_id=customer.principal.id, status="pending", total="1.00")
    real_check = services._pending_order_of.first
    checks = iter([None])
    monkeypatch.setattr(
        services._pending_order_of, "first", lambda **values: next(checks, None) or real_check(**values)
    )

    response = checkout(customer)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "checkout_in_progress"
    assert Order.objects.filter(user_id=customer.principal.id).count() == 1
    assert CartItem.objects.filter(cart__user_id=customer.principal.id).count() == 2  # both lines still there
