"""Events the auth service subscribes to: none. It is where identities come from,
and it announces them (`auth.user.registered`, `auth.user.updated`) from services.py."""
