"""The local account of a staff member the gateway vouches for.

Flags come from the auth service, on every request: `is_staff`, `is_superuser` and
the username are brought in line with the signed identity (a superuser there is a
superuser here; a staff member who is not gets exactly the permissions and groups
given to their local account in this project's admin). Fine-grained permissions
are therefore per project, managed by a superuser in each admin.

Usernames: a local user of the same name that no auth user has claimed yet (the
one `manage.py ensure_admin` creates, or one a superuser created beforehand to give
it permissions) becomes that staff member's account. A local user of that name
linked to another auth user is stale (that user has since been renamed in the auth
service, where names are unique regardless of case): it is renamed aside
(`<name>~<id>`) and takes its new name when its owner next comes.
"""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from commerce_core.identity.principal import Principal

from .models import OperatorAccount

#: No auth username contains it (Django's username validator refuses it).
ASIDE = "~"


def operator_user(principal: Principal):
    """The local `User` of a staff principal, created or brought in line with it."""
    if not principal.is_staff:
        raise ValueError("only staff members have an operator account")
    user = _linked_user(principal.id)
    if user is not None and _matches(user, principal):
        return user  # the usual case: one query, no write
    try:
        return _align(principal)
    except IntegrityError:
        # Another request created or renamed the same account at the same moment.
        return _align(principal)


def _linked_user(auth_user_id: int):
    User = get_user_model()
    return User.objects.filter(operator_account__auth_user_id=auth_user_id).first()


def _matches(user, principal: Principal) -> bool:
    return (
        user.username == principal.username
        and user.is_active
        and user.is_staff
        and user.is_superuser == principal.is_superuser
    )


@transaction.atomic
def _align(principal: Principal):
    User = get_user_model()
    user = _linked_user(principal.id)
    holder = User.objects.filter(username__iexact=principal.username).exclude(pk=user.pk if user else None).first()
    if holder is not None:
        if user is None and not OperatorAccount.objects.filter(user=holder).exists():
            user = holder
            OperatorAccount.objects.create(user=holder, auth_user_id=principal.id)
        else:
            suffix = f"{ASIDE}{holder.pk}"
            holder.username = holder.username[: 150 - len(suffix)] + suffix
            holder.save(update_fields=["username"])
    if user is None:
        user = User(username=principal.username)
        user.set_unusable_password()  # nobody signs in here: the gateway vouches
        user.save()
        OperatorAccount.objects.create(user=user, auth_user_id=principal.id)
    user.username = principal.username
    user.is_active = True
    user.is_staff = True
    user.is_superuser = principal.is_superuser
    user.save(update_fields=["username", "is_active", "is_staff", "is_superuser"])
    return user
