"""Events a request publishes leave once its response is out.

A request that commits several events (a checkout commits three) sends them in one
broker round trip instead of one each, when the server closes the response (PEP
3333's `close()`, which Django's `HttpResponse` passes to its resource closers):
after the client has its answer, so a slow or hung broker never delays one, and
before the thread takes its next request. Each event is still sent only once its
transaction committed: a rolled-back transaction publishes nothing. A response
never closed leaves its events to the outbox's relay, which sends them a little
later (`RELAY_AFTER_SECONDS`).
"""

from .outbox import sender


def send_events_together(get_response):
    def middleware(request):
        with sender.collecting() as committed:
            try:
                response = get_response(request)
            except BaseException:
                if committed:
                    sender.send(committed)  # no response to wait for
                raise
        if committed:
            response._resource_closers.append(lambda: sender.send(committed))
        return response

    return middleware
