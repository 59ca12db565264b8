"""Which headers cross the gateway, in each direction, and who decides the framing.

To the upstream: the client's end-to-end headers, minus hop-by-hop ones (RFC 9110
section 7.6.1: Connection and the headers it names, Keep-Alive, Proxy-*, TE,
Trailer, Transfer-Encoding, Upgrade) and minus anything a client could use to
pose as someone else: `X-Gateway-Identity`, any `X-User-*`, any name with an
underscore (Django's `request.META` turns `X_Gateway_Identity` into the very key
`X-Gateway-Identity` becomes, HTTP_X_GATEWAY_IDENTITY), `X-Request-Start` (the
gateway's own clock for load shedding) and `X-Forwarded-*`/`Forwarded`, which the
gateway sets itself. `Authorization` is kept: the gateway has verified it, and the
auth service may want it.

The framing of the forwarded request is the gateway's alone. `Host`,
`Content-Length` and `Transfer-Encoding` are never copied: the gateway writes
`Host` and a `Content-Length` it counted itself (the body is read whole first,
proxy/body.py), so no header a client sends, and no token it names in
`Connection`, can make the service see a different message boundary than the
gateway saw. Requests whose framing two parsers could read two ways are refused
(`FramingError`, answered 400): both Content-Length and Transfer-Encoding, a
repeated or malformed Content-Length, a Transfer-Encoding other than exactly
`chunked` (or any in HTTP/1.0), a repeated or missing Host, a repeated
Authorization, and a header value with CR, LF or NUL in it. uvicorn's parser
(llhttp) already refuses most of these before the gateway sees the request; this
is the gateway's own check, which does not depend on what the server in front of
it lets through (see the gateway README).

To the client: the upstream's end-to-end headers, minus hop-by-hop ones and the
ones the gateway's server writes itself (`Date`, `Server`, `X-Request-ID`).

`ClientHeaders.read` sorts the client's headers in one pass and
`upstream_request_head` writes the request line and headers the service gets.

ASGI gives header names lowercased. The verdict for each name is memoised: real
traffic uses a few dozen names, and one dict lookup per header is the hot path.
"""

import re
from urllib.parse import quote

HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"te", b"trailer", b"transfer-encoding", b"upgrade"})
CLIENT_MAY_NOT_SEND = frozenset(
    {
        b"x-gateway-identity",
        b"forwarded",
        b"x-real-ip",
        # When the gateway started the request's clock: services shed requests that
        # waited too long by it (commerce_core.web.load_shedding).
        b"x-request-start",
        # The gateway sends the whole body itself; an upstream 100 Continue would only get in the way.
        b"expect",
    }
)
#: Header names are RFC 9110 tokens; anything else (spaces, colons, controls) is refused.
_TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9a-zA-Z]+$")

# Request header verdicts.
KEEP, DROP, HOST, AUTHORIZATION, REQUEST_ID, CONTENT_LENGTH, TRANSFER_ENCODING, CONNECTION, INVALID_NAME = range(9)
_SPECIAL = {
    b"host": HOST,
    b"authorization": AUTHORIZATION,
    b"x-request-id": REQUEST_ID,
    b"content-length": CONTENT_LENGTH,
    b"transfer-encoding": TRANSFER_ENCODING,
    b"connection": CONNECTION,
}
#: Past this many distinct names, verdicts are computed without being remembered.
_MEMO_LIMIT = 4096


class FramingError(Exception):
    """The request's framing or headers could be read more than one way; the message says how."""


def _is_hop_by_hop(name: bytes) -> bool:
    return name in HOP_BY_HOP or name.startswith(b"proxy-")


def _decide_request_header(name: bytes) -> int:
    special = _SPECIAL.get(name)
    if special is not None:
        return special
    if not _TOKEN.match(name):
        return INVALID_NAME
    if (
        _is_hop_by_hop(name)
        or b"_" in name
        or name.startswith(b"x-user-")
        or name.startswith(b"x-forwarded-")
        or name in CLIENT_MAY_NOT_SEND
    ):
        return DROP
    return KEEP


_request_verdicts: dict[bytes, int] = {}


def request_verdict(name: bytes) -> int:
    verdict = _request_verdicts.get(name)
    if verdict is None:
        verdict = _decide_request_header(name)
        if len(_request_verdicts) < _MEMO_LIMIT:
            _request_verdicts[name] = verdict
    return verdict


def connection_tokens(value: bytes) -> set[bytes]:
    """The header names a `Connection` header declares hop-by-hop."""
    return {token.strip().lower() for token in value.split(b",")} - {b"", b"close", b"keep-alive"}


def _unsafe_value(value: bytes) -> bool:
    # A value that could end a header line early in any parser downstream.
    return b"\n" in value or b"\r" in value or b"\0" in value


class ClientHeaders:
    """The client's request headers, sorted: what is forwarded, and what the edge itself reads."""

    __slots__ = ("forwarded", "host", "authorization", "request_id", "content_length", "transfer_encoding", "problem")

    def __init__(self):
        self.forwarded: list[tuple[bytes, bytes]] = []
        self.host: bytes | None = None
        self.authorization: bytes | None = None
        self.request_id: bytes | None = None
        self.content_length: bytes | None = None
        self.transfer_encoding: bytes | None = None
        #: The first thing wrong with the headers, if any (see `check_framing`).
        self.problem: str | None = None

    @classmethod
    def read(cls, headers) -> "ClientHeaders":
        sorted_ = cls()
        forwarded = sorted_.forwarded
        named_hop_by_hop = None
        for header in headers:
            name, value = header
            verdict = request_verdict(name)
            if verdict == KEEP:
                if _unsafe_value(value):
                    sorted_.problem = sorted_.problem or "A header value contains CR, LF or NUL."
                forwarded.append(header)
            elif verdict == DROP:
                continue
            elif verdict == HOST:
                if sorted_.host is not None:
                    sorted_.problem = sorted_.problem or "More than one Host header."
                sorted_.host = value
            elif verdict == AUTHORIZATION:
                if sorted_.authorization is not None:
                    sorted_.problem = sorted_.problem or "More than one Authorization header."
                sorted_.authorization = value
                forwarded.append(header)
            elif verdict == REQUEST_ID:
                sorted_.request_id = value
            elif verdict == CONTENT_LENGTH:
                if sorted_.content_length is not None:
                    sorted_.problem = sorted_.problem or "More than one Content-Length header."
                sorted_.content_length = value
            elif verdict == TRANSFER_ENCODING:
                if sorted_.transfer_encoding is not None:
                    sorted_.problem = sorted_.problem or "More than one Transfer-Encoding header."
                sorted_.transfer_encoding = value
            elif verdict == CONNECTION:
                named_hop_by_hop = connection_tokens(value) or None
            else:  # INVALID_NAME
                sorted_.problem = sorted_.problem or "A header name is not a valid token."
        if named_hop_by_hop:
            # Only end-to-end headers can be named away: Host, Content-Length and
            # Transfer-Encoding never are in `forwarded`, whatever Connection says.
            sorted_.forwarded = [h for h in forwarded if h[0] not in named_hop_by_hop]
        return sorted_

    def check_framing(self, http_version: str) -> None:
        """Raise FramingError unless the request has one unambiguous framing."""
        problem = self.problem or self._framing_problem(http_version)
        if problem is not None:
            raise FramingError(problem)

    def _framing_problem(self, http_version: str) -> str | None:
        content_length, transfer_encoding = self.content_length, self.transfer_encoding
        if content_length is not None:
            if transfer_encoding is not None:
                return "Content-Length and Transfer-Encoding together."
            if not content_length.isdigit():  # ASCII digits only: no sign, space, "_" or list
                return "Invalid Content-Length."
        elif transfer_encoding is not None:
            if transfer_encoding.lower() != b"chunked":
                return "Transfer-Encoding other than chunked."
            if http_version == "1.0":
                return "Transfer-Encoding in an HTTP/1.0 request."
        if self.host is None:
            if http_version != "1.0":
                return "Missing Host header."
        elif _unsafe_value(self.host):
            return "A header value contains CR, LF or NUL."
        if self.authorization is not None and _unsafe_value(self.authorization):
            return "A header value contains CR, LF or NUL."
        return None

    @property
    def declared_length(self) -> int | None:
        """The Content-Length, once `check_framing` has passed (digits only)."""
        value = self.content_length
        if value is None:
            return None
        # More digits than any body limit: too large, without parsing an endless number.
        return int(value) if len(value) <= 18 else 10**18

    @property
    def chunked(self) -> bool:
        return self.transfer_encoding is not None

    @property
    def has_body(self) -> bool:
        """Whether the framing announces a body (a Content-Length above 0, or chunked)."""
        if self.transfer_encoding is not None:
            return True
        length = self.content_length
        return length is not None and length.strip(b"0") != b""


_METHOD_BYTES: dict[str, bytes] = {}
#: Methods whose requests carry a body by definition: sent with `content-length: 0` when empty.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def upstream_request_head(
    scope,
    client_headers: ClientHeaders,
    *,
    route,
    request_id: bytes,
    identity: bytes | None,
    body_length: int,
    started_at: bytes,
) -> bytes:
    """The request line and headers sent to the service, path and query unchanged.

    `body_length` is the size of the body the gateway read and sends right after
    this head; it is the only framing the service sees.

    `X-Forwarded-For` is the peer address of the client's connection as the ASGI
    server reports it (uvicorn replaces it only for peers in --forwarded-allow-ips,
    by default 127.0.0.1: a local TLS terminator in front of the gateway).
    """
    method = scope["method"]
    method_bytes = _METHOD_BYTES.get(method)
    if method_bytes is None:
        method_bytes = _METHOD_BYTES.setdefault(method, method.encode("ascii"))
    path = scope.get("raw_path") or quote(scope["path"]).encode("ascii")
    query = scope["query_string"]
    host = client_headers.host
    if host is None:  # HTTP/1.0 without Host
        host = route.origin.authority.encode("ascii")
    parts = [method_bytes, b" ", path, b"?" + query if query else b"", b" HTTP/1.1\r\nhost: ", host, b"\r\n"]
    for name, value in client_headers.forwarded:
        parts += (name, b": ", value, b"\r\n")
    client = scope.get("client")
    if client:
        parts += (b"x-forwarded-for: ", client[0].encode("ascii"), b"\r\n")
    parts += (
        b"x-forwarded-proto: ",
        scope["scheme"].encode("ascii"),
        b"\r\nx-forwarded-host: ",
        host,
        b"\r\nx-request-id: ",
        request_id,
        b"\r\nx-request-start: t=",
        started_at,
        b"\r\n",
    )
    if identity is not None:
        parts += (b"x-gateway-identity: ", identity, b"\r\n")
    if body_length or method in _BODY_METHODS:
        parts += (b"content-length: ", b"%d" % body_length, b"\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)


_RESPONSE_DROP = frozenset({b"date", b"server", b"x-request-id"})
_response_verdicts: dict[bytes, bool] = {}


def _response_header_kept(name: bytes) -> bool:
    kept = _response_verdicts.get(name)
    if kept is None:
        kept = not (_is_hop_by_hop(name) or name in _RESPONSE_DROP)
        if len(_response_verdicts) < _MEMO_LIMIT:
            _response_verdicts[name] = kept
    return kept


def response_headers(upstream: list[tuple[bytes, bytes]], request_id: bytes) -> list[tuple[bytes, bytes]]:
    """The headers sent to the client for an upstream response (names already lowercased)."""
    headers = [(name, value) for name, value in upstream if _response_header_kept(name)]
    for name, value in upstream:
        if name == b"connection":
            named = connection_tokens(value)
            if named:
                headers = [(n, v) for n, v in headers if n not in named]
    headers.append((b"x-request-id", request_id))
    return headers
