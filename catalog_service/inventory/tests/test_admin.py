import pytest

from .factories import order_placed

pytestmark = pytest.mark.django_db


def test_operators_find_a_reservation_by_order_id_and_status_and_see_its_lines(operator_client, deliver, make_product):
    mug = make_product("Mug", stock=5)
    order = order_placed((mug, 2), order_id=4242)
    deliver(order)

    listing = operator_client.get(
        "/admin/catalog/inventory/stockreservation/", {"q": "4242", "status__exact": "reserved"}
    )
    assert listing.status_code == 200
    assert b"4242" in listing.content
    assert operator_client.get("/admin/catalog/inventory/stockreservation/", {"q": "not-a-number"}).status_code == 200

    reservation = listing.context["cl"].result_list[0]
    detail = operator_client.get(f"/admin/catalog/inventory/stockreservation/{reservation.pk}/change/")
    assert detail.status_code == 200
    assert str(mug.pk).encode() in detail.content


def test_reservations_cannot_be_changed_by_hand_in_the_admin(operator_client, deliver, make_product):
    deliver(order_placed((make_product("Mug"), 1)))
    assert operator_client.get("/admin/catalog/inventory/stockreservation/add/").status_code == 403
