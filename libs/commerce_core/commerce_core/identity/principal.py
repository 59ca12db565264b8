from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller as the gateway vouched for it. Services hold no copy of the auth
    service's users; this is all they know of who is calling."""

    id: int
    username: str
    is_staff: bool = False
    #: A superuser of the auth service: a superuser in every project's admin too
    #: (commerce_core.operators); it grants nothing in the APIs.
    is_superuser: bool = False

    # The attributes DRF's permission classes and Django expect of `request.user`.
    is_authenticated = True
    is_anonymous = False
    is_active = True

    @property
    def pk(self) -> int:
        return self.id
