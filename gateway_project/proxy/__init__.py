"""The lean HTTP proxy: requests under a service's prefix go straight from the ASGI
server to that service, without Django's request cycle.

Reading order: `app.py` (what the gateway does at the edge), `routes.py` (which
service), `headers.py` (what is forwarded), `identity.py` (who is calling),
`forward.py` (one request to the upstream and back), `connection.py` and `pool.py`
(the HTTP/1.1 keep-alive client underneath).
"""
