"""The operators' single sign-on: one sign-in at `/admin/` for every project's admin.

- `views.py`: `/admin/` (every admin, listed), `/admin/login/`, `/admin/logout/`.
- `auth_client.py`: the auth service's token endpoints, asked by the gateway itself.
- `sessions.py`: who is signed on, in a server-side session, re-confirmed with the
  auth service every minute.
- `gate.py`: `/admin/<service>/...` reaches that service's admin only for a
  signed-on staff member, with the signed identity header the APIs trust.
- `middleware.py`: the same for the gateway's own pages and its own admin
  (`/admin/gateway/`).

The services' half is `commerce_core.operators`. Why this design, and what a stolen
cookie allows: README, "Operators' admin".
"""
