import json
import time

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from commerce_core.web.load_shedding import LoadSheddingMiddleware


@pytest.fixture
def served(settings):
    settings.REQUEST_QUEUE_BUDGET_SECONDS = 3.0
    calls = []

    def view(request):
        calls.append(request.path)
        return HttpResponse("done")

    middleware = LoadSheddingMiddleware(view)

    def serve(**headers):
        return middleware(RequestFactory().post("/api/auth/register/", **headers))

    serve.calls = calls
    return serve


def test_a_request_that_waited_past_the_budget_gets_503_with_retry_after_and_is_not_started(served):
    response = served(HTTP_X_REQUEST_START=f"t={time.time() - 4:.3f}")

    assert response.status_code == 503
    assert json.loads(response.content)["error"]["code"] == "overloaded"
    assert int(response["Retry-After"]) >= 1
    assert served.calls == []


def test_a_request_within_the_budget_is_served(served):
    response = served(HTTP_X_REQUEST_START=f"t={time.time() - 1:.3f}")

    assert response.status_code == 200
    assert served.calls == ["/api/auth/register/"]


@pytest.mark.parametrize("stamp", [None, "", "t=", "t=yesterday", "t=nan", "1234", "t=inf"])
def test_a_request_without_a_usable_stamp_is_never_shed(served, stamp):
    response = served(**({} if stamp is None else {"HTTP_X_REQUEST_START": stamp}))

    assert response.status_code == 200
