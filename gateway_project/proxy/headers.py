"""Which headers cross the gateway, in each direction.

To the upstream: the client's end-to-end headers, minus hop-by-hop ones (RFC 9110
section 7.6.1: Connection and the headers it names, Keep-Alive, Proxy-*, TE,
Trailer, Transfer-Encoding, Upgrade) and minus anything a client could use to
pose as someone else: `X-Gateway-Identity`, any `X-User-*`, any name with an
underscore (Django's `request.META` turns `X_Gateway_Identity` into the very key
`X-Gateway-Identity` becomes, HTTP_X_GATEWAY_IDENTITY), and
`X-Forwarded-*`/`Forwarded`, which the gateway sets itself. `Authorization` is
kept: the gateway has verified it, and the auth service may want it.

To the client: the upstream's end-to-end headers, minus hop-by-hop ones and the
ones the gateway's server writes itself (`Date`, `Server`, `X-Request-ID`).

`ClientHeaders.read` sorts the client's headers in one pass and
`upstream_request_head` writes the request line and headers the service gets.

ASGI gives header names lowercased. The verdict for each name is memoised: real
traffic uses a few dozen names, and one dict lookup per header is the hot path.
"""

from urllib.parse import quote

HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"te", b"trailer", b"transfer-encoding", b"upgrade"})
CLIENT_MAY_NOT_SEND = frozenset(
    {
        b"x-gateway-identity",
        b"forwarded",
        b"x-real-ip",
        # The gateway sends the whole body itself; an upstream 100 Continue would only get in the way.
        b"expect",
    }
)

# Request header verdicts.
KEEP, DROP, HOST, AUTHORIZATION, REQUEST_ID, CONTENT_LENGTH, TRANSFER_ENCODING, CONNECTION = range(8)
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


def _is_hop_by_hop(name: bytes) -> bool:
    return name in HOP_BY_HOP or name.startswith(b"proxy-")


def _decide_request_header(name: bytes) -> int:
    special = _SPECIAL.get(name)
    if special is not None:
        return special
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


class ClientHeaders:
    """The client's request headers, sorted: what is forwarded, and what the edge itself reads."""

    __slots__ = ("forwarded", "host", "authorization", "request_id", "content_length", "chunked")

    def __init__(self):
        self.forwarded: list[tuple[bytes, bytes]] = []
        self.host: bytes | None = None
        self.authorization: bytes | None = None
        self.request_id: bytes | None = None
        self.content_length: bytes | None = None
        #: The client sent a body without a length (Transfer-Encoding).
        self.chunked = False

    @classmethod
    def read(cls, headers) -> "ClientHeaders":
        sorted_ = cls()
        forwarded = sorted_.forwarded
        named_hop_by_hop = None
        for header in headers:
            verdict = request_verdict(header[0])
            if verdict == KEEP:
                forwarded.append(header)
            elif verdict == HOST:
                sorted_.host = header[1]
                forwarded.append(header)
            elif verdict == AUTHORIZATION:
                sorted_.authorization = header[1]
                forwarded.append(header)
            elif verdict == REQUEST_ID:
                sorted_.request_id = header[1]
            elif verdict == CONTENT_LENGTH:
                sorted_.content_length = header[1]
                forwarded.append(header)
            elif verdict == TRANSFER_ENCODING:
                sorted_.chunked = True
            elif verdict == CONNECTION:
                named_hop_by_hop = connection_tokens(header[1]) or None
        if named_hop_by_hop:
            sorted_.forwarded = [h for h in forwarded if h[0] not in named_hop_by_hop]
        return sorted_


_METHOD_BYTES: dict[str, bytes] = {}


def upstream_request_head(
    scope, client_headers: ClientHeaders, *, route, request_id: bytes, identity: bytes | None, chunked: bool
) -> bytes:
    """The request line and headers sent to the service, path and query unchanged.

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
    parts = [method_bytes, b" ", path, b"?" + query if query else b"", b" HTTP/1.1\r\n"]
    for name, value in client_headers.forwarded:
        parts += (name, b": ", value, b"\r\n")
    host = client_headers.host
    if host is None:
        host = route.origin.authority.encode("ascii")
        parts += (b"host: ", host, b"\r\n")
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
        b"\r\n",
    )
    if identity is not None:
        parts += (b"x-gateway-identity: ", identity, b"\r\n")
    if chunked:
        parts.append(b"transfer-encoding: chunked\r\n")
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
