"""Writes of users. Each runs in one transaction with the events it publishes.

Validation failures are raised as one `ApplicationError` carrying every field's
errors, so the API answers them in the shared error shape."""

from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from commerce_core.events.api import publish
from commerce_core.events.contracts.auth import UserRegistered, UserUpdated
from commerce_core.web.errors import ApplicationError, NotFound

from . import selectors

USERNAME_TAKEN = "A user with that username already exists."
EMAIL_TAKEN = "A user with that email already exists."
EMAIL_REQUIRED = "This field is required."

#: The fields other services may keep a copy of; a change to any of them is announced.
ANNOUNCED_FIELDS = ("username", "email", "is_active")


def invalid(fields: dict[str, list[str]]) -> ApplicationError:
    return ApplicationError("Invalid input.", code="validation_error", fields=fields)


def availability_errors(*, username: str, email: str, user_id: int | None = None) -> dict[str, list[str]]:
    """Field errors for a username or email another user already has, in any case."""
    errors = {}
    if selectors.username_taken(username=username, exclude_user_id=user_id):
        errors["username"] = [USERNAME_TAKEN]
    if selectors.email_taken(email=email, exclude_user_id=user_id):
        errors["email"] = [EMAIL_TAKEN]
    return errors


def _validation_errors(user: User) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    try:
        # Also normalizes the username (NFKC) and the email's domain. Uniqueness is
        # checked below without regard to case, which Django's own check would miss.
        user.full_clean(exclude=["password"], validate_unique=False)
    except DjangoValidationError as exc:
        errors.update(exc.message_dict)
    if not user.email and "email" not in errors:
        errors["email"] = [EMAIL_REQUIRED]
    for field, messages in availability_errors(username=user.username, email=user.email, user_id=user.pk).items():
        errors.setdefault(field, messages)
    return errors


def _save(user: User) -> None:
    try:
        # A savepoint, so that losing the race below leaves the outer transaction usable.
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # Another request took the username or email between our check and this
        # insert; the database's case-insensitive unique indexes caught it.
        errors = availability_errors(username=user.username, email=user.email, user_id=user.pk)
        if errors:
            raise invalid(errors) from None
        raise


def user_register(*, username: str, email: str, password: str) -> User:
    user = User(username=username, email=email)
    errors = _validation_errors(user)
    try:
        # Runs after full_clean so the similarity check compares against the
        # normalized username and email.
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        errors["password"] = exc.messages
    if errors:
        raise invalid(errors)
    # Hashing is most of a sign-up's time: done before the transaction, so that no
    # database lock (SQLite's is the whole database) is held meanwhile. The checks
    # above are read again by the unique indexes when the row is inserted (_save).
    user.set_password(password)
    with transaction.atomic():
        _save(user)
        publish(UserRegistered(user_id=user.id, username=user.username, email=user.email))
    return user


@transaction.atomic
def user_save(*, user: User) -> User:
    """Save a user whose fields were changed in memory (the Django admin does this),
    announcing a new user as registered and a change of `ANNOUNCED_FIELDS` as updated.

    The password is taken as it is: set it with `user.set_password()` beforehand."""
    stored = (
        User.objects.select_for_update().filter(pk=user.pk).values(*ANNOUNCED_FIELDS).first()
        if user.pk is not None
        else None
    )
    errors = _validation_errors(user)
    if errors:
        raise invalid(errors)
    _save(user)
    if stored is None:
        publish(UserRegistered(user_id=user.id, username=user.username, email=user.email))
    elif any(stored[field] != getattr(user, field) for field in ANNOUNCED_FIELDS):
        publish(UserUpdated(user_id=user.id, username=user.username, email=user.email, is_active=user.is_active))
    return user


@transaction.atomic
def user_update(
    *, user_id: int, username: str | None = None, email: str | None = None, is_active: bool | None = None
) -> User:
    """Change what other services know of a user; fields left as None stay as they are."""
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        raise NotFound("User not found.")
    if username is not None:
        user.username = username
    if email is not None:
        user.email = email
    if is_active is not None:
        user.is_active = is_active
    return user_save(user=user)


@transaction.atomic
def user_ensure_registered(*, username: str, email: str, password: str) -> tuple[User, bool]:
    """The user called `username` (in any case), registered as by `user_register` if
    there is none yet; True with a new user.

    An existing user is returned as it is, password included: it may have been
    registered by someone else, whose account this must never take over."""
    stored_as = selectors.username_stored_as(username=username)
    if stored_as is not None:
        return User.objects.get(username=stored_as), False
    return user_register(username=username, email=email, password=password), True
