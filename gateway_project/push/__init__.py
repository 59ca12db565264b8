"""Push: domain events delivered to the clients entitled to them, over WebSocket
(`/ws/events/`) and Socket.IO (`/socket.io/`). The README's push section is the
overview; the modules, in the order an event travels:

- handlers.py: the gateway's event worker writes each pushable event once into
  history (history.py: Redis Streams, one per public event and per user's private
  event, plus one feed of private events) and relays deactivations (control.py);
- hub.py: each gateway web process reads the streams and fans each event out to
  its own sockets, encoded once per front end (frames.py), through each socket's
  bounded outbox (outbox.py);
- connections.py: one client connection of either front end: identity, token
  expiry, subscriptions, recovery from offsets (streams.py);
- consumers.py and socketio_server.py: the two front ends' protocols.
"""
