"""Operators in every project's Django admin, signed on once at the gateway.

The gateway is the single sign-on point (gateway_project/sign_on/): a staff member
signs in at `/admin/`, the gateway keeps the session, and it forwards each request
to `/admin/<service>/...` with the signed `X-Gateway-Identity` header the APIs
already trust. This package is the other half, in every project:

- `middleware.GatewayOperatorMiddleware` makes `request.user`, on admin paths, the
  local account of the staff member that header names, and nobody otherwise: the
  admin authenticates each request from the header alone.
- `middleware.NoSessionMiddleware` gives each request a session that is never
  stored (`sessions.RequestOnlySession`): a service keeps no session of its own, so
  nothing outlives the gateway's sign-out.
- `backends.OperatorBackend` and `accounts.operator_user`: the Django `User` the
  admin needs (`is_staff`, permissions, the author of its log entries), linked to
  the auth service's user by id (`models.OperatorAccount`).
- `admin_site.OperatorsAdminSite`: the admin's own login and logout hand over to
  the gateway's sign-in and sign-out.
"""
