"""GET /live/ through the gateway's complete ASGI application: the page, its policy,
and every file it loads served by the gateway itself."""

import re
from html.parser import HTMLParser

import pytest

from commerce_core.events.contracts import Audience, registered_contracts

pytestmark = pytest.mark.anyio


@pytest.fixture
def gateway_app():
    from config.asgi import application

    return application


class PageParts(HTMLParser):
    """What a page loads and runs: its scripts, stylesheets and icons, and anything inline."""

    def __init__(self):
        super().__init__()
        self.scripts: list[str] = []
        self.links: list[str] = []
        self.inline_scripts = 0
        self.inline_handlers: list[str] = []
        self.style_attributes = 0
        self.body: dict[str, str] = {}
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.inline_handlers += [name for name in attributes if name.startswith("on")]
        self.style_attributes += "style" in attributes
        if tag == "script":
            if attributes.get("src"):
                self.scripts.append(attributes["src"])
            else:
                self._in_script = True
        elif tag == "link":
            self.links.append(attributes["href"])
        elif tag == "body":
            self.body = attributes

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


async def get_page(gateway_app, asgi_request) -> tuple[object, PageParts]:
    response = await asgi_request(gateway_app, "GET", "/live/")
    assert response.status == 200, response.body
    parts = PageParts()
    parts.feed(response.body.decode())
    return response, parts


async def test_the_live_page_is_html_under_a_policy_that_allows_only_the_gateways_own_files(gateway_app, asgi_request):
    response, parts = await get_page(gateway_app, asgi_request)

    assert response.header("content-type").startswith("text/html")
    policy = dict(
        re.split(r"\s+", rule.strip(), maxsplit=1) for rule in response.header("content-security-policy").split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == policy["style-src"] == policy["connect-src"] == "'self'"
    assert policy["form-action"] == "'none'" and policy["frame-ancestors"] == "'none'"
    # Nothing the policy would block: no inline script, handler or style.
    assert parts.inline_scripts == 0 and parts.inline_handlers == [] and parts.style_attributes == 0


async def test_the_page_subscribes_to_exactly_the_pushable_events_of_each_audience(gateway_app, asgi_request):
    _, parts = await get_page(gateway_app, asgi_request)

    contracts = registered_contracts()
    public = set(parts.body["data-public-events"].split())
    private = set(parts.body["data-private-events"].split())
    assert public == {name for name, c in contracts.items() if c.audience is Audience.PUBLIC}
    assert private == {name for name, c in contracts.items() if c.audience is Audience.USER}
    assert {"catalog.product.created", "catalog.product.price_changed", "review.created"} <= public
    assert {"cart.updated", "order.status_changed", "payment.succeeded", "payment.failed"} <= private


async def test_every_file_the_page_loads_is_served_by_the_gateway_including_the_pinned_socket_io_client(
    gateway_app, asgi_request
):
    _, parts = await get_page(gateway_app, asgi_request)

    assert "/static/push/socket.io-4.8.3.min.js" in parts.scripts
    for url in parts.scripts + parts.links:
        assert url.startswith("/static/"), url
        response = await asgi_request(gateway_app, "GET", url)
        assert response.status == 200, url
        expected = "javascript" if url.endswith(".js") else "css" if url.endswith(".css") else "svg"
        assert expected in response.header("content-type"), (url, response.header("content-type"))


async def test_the_page_without_its_trailing_slash_redirects_and_other_methods_are_refused(gateway_app, asgi_request):
    redirected = await asgi_request(gateway_app, "GET", "/live")
    refused = await asgi_request(gateway_app, "POST", "/live/", body=b"username=a&password=b")

    assert redirected.status == 301 and redirected.header("location") == "/live/"
    assert refused.status == 405
