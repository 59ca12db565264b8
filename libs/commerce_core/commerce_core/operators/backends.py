from django.contrib.auth.backends import ModelBackend

from commerce_core.identity.principal import Principal

from .accounts import operator_user


class OperatorBackend(ModelBackend):
    """Authenticates the staff member the gateway vouches for, and nobody by password.

    `authenticate` takes only `gateway_principal`, so a username and password never
    reach it (Django skips a backend whose signature does not fit the credentials).
    Permissions are Django's own (ModelBackend): a superuser has them all, anyone
    else what their local account and its groups were given.
    """

    def authenticate(self, request, gateway_principal: Principal):
        if not gateway_principal.is_staff:
            return None
        return operator_user(gateway_principal)
