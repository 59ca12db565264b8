"""What operators see: Prometheus metrics on every process (metrics.py) and
OpenTelemetry traces across HTTP, events and push (tracing.py).

Installed as a Django app (`commerce_core.observability`, in the shared settings):
when Django starts, apps.py turns tracing on if the environment asks for it. The
bus (events/outbox.py, delivery.py, worker.py), the gateway (proxy/telemetry.py)
and push (push/hub.py) call the small hooks of metrics.py and tracing.py.
"""
