"""The customer replica: what a service knows of the platform's users, learnt from
auth events only. A service that needs it adds "commerce_core.customers" to its
INSTALLED_APPS; the handlers subscribe it to `auth.user.registered` and
`auth.user.updated` on their own (the events app imports every app's handlers.py)."""
