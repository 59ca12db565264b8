from decimal import Decimal

import pytest
from django.conf import settings

from commerce_core.events.api import Envelope
from commerce_core.events.contracts.reviews import ReviewCreated
from commerce_core.events.models import DeadLetter

pytestmark = pytest.mark.django_db


def review(product_id: int, rating: int, review_id: int = 1) -> ReviewCreated:
    return ReviewCreated(review_id=review_id, product_id=product_id, user_id=7, rating=rating, verified_purchase=True)


def test_each_new_review_moves_the_products_rating_count_sum_and_average(deliver, make_product):
    product = make_product()
    for review_id, rating in enumerate([5, 4, 4], start=1):
        deliver(review(product.pk, rating, review_id))
    product.refresh_from_db()
    assert (product.rating_count, product.rating_sum, product.rating_avg) == (3, 13, Decimal("4.33"))


def test_the_average_is_exact_after_many_reviews_not_rounded_again_and_again(deliver, make_product):
    product = make_product()
    for review_id in range(1, 301):
        deliver(review(product.pk, 5 if review_id % 3 else 4, review_id))
    product.refresh_from_db()
    # 200 fives and 100 fours: 1400 / 300
    assert (product.rating_count, product.rating_avg) == (300, Decimal("4.67"))


def test_a_duplicated_review_created_delivery_counts_once(deliver, make_product):
    product = make_product()
    body = Envelope.wrap(review(product.pk, 2), source="review").to_dict()
    deliver(body)
    deliver(body)
    product.refresh_from_db()
    assert (product.rating_count, product.rating_sum, product.rating_avg) == (1, 2, Decimal("2.00"))


def test_the_rating_shows_in_the_product_detail(api_client, deliver, make_product):
    product = make_product()
    deliver(review(product.pk, 4))
    body = api_client.get(f"/api/catalog/products/{product.pk}/").json()
    assert (body["rating_avg"], body["rating_count"]) == ("4.00", 1)


def test_a_review_of_a_product_deleted_meanwhile_is_dropped(deliver):
    assert deliver(review(404, 5)) == {"status": "done"}


def test_a_rating_outside_one_to_five_ends_up_in_the_dead_letter_store_not_in_the_average(deliver, make_product):
    product = make_product()
    result = deliver(review(product.pk, 9), retries=settings.COMMERCE_EVENTS["MAX_RETRIES"])
    assert result == {"status": "dead-lettered"}
    assert DeadLetter.objects.get().event_type == "review.created"
    product.refresh_from_db()
    assert product.rating_count == 0
