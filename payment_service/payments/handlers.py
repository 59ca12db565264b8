"""Events the payment service subscribes to: none yet. Charging for an order
(`order.placed` in, `payment.succeeded` / `payment.failed` out) arrives with the
checkout saga; this module is where its handler will live."""
