"""What no process of the platform starts on outside development.

Every process (web, event worker, each `manage.py` command) checks its settings
once Django is set up (`commerce_core.ops` runs `refuse_to_start_if_insecure` from
its AppConfig.ready()). Unless `DEBUG` or `DEVELOPMENT_MODE` is on, it refuses to
start, with one line on stderr naming the variables and exit status 3, when:

- `DJANGO_SECRET_KEY`, `JWT_SECRET` or `GATEWAY_IDENTITY_SECRET` is a development
  default (`dev-only-...`) or shorter than 32 characters: anyone who knows the
  default can mint a staff token or forge the gateway's identity header;
- `DJANGO_ALLOWED_HOSTS` is empty or contains `*`;
- `ADMIN_PASSWORD` is the development default (`admin`) or empty.

Exit status 3 is gunicorn's "worker failed to boot": its master stops instead of
starting the refused worker again and again.
"""

import sys

from .env import DEV_ADMIN_PASSWORD

DEVELOPMENT_PREFIX = "dev-only-"
MIN_SECRET_LENGTH = 32
REFUSED_EXIT_STATUS = 3

#: (setting, the environment variable it comes from)
SECRETS = (
    ("SECRET_KEY", "DJANGO_SECRET_KEY"),
    ("JWT_SECRET", "JWT_SECRET"),
    ("GATEWAY_IDENTITY_SECRET", "GATEWAY_IDENTITY_SECRET"),
)


def development_allowed(settings) -> bool:
    return bool(settings.DEBUG or getattr(settings, "DEVELOPMENT_MODE", False))


def insecure_settings(settings) -> list[str]:
    """What is unfit for production in `settings`, one phrase per problem."""
    problems = []
    for setting, variable in SECRETS:
        value = getattr(settings, setting, "") or ""
        if value.startswith(DEVELOPMENT_PREFIX):
            problems.append(f"{variable} is the development default")
        elif len(value) < MIN_SECRET_LENGTH:
            problems.append(f"{variable} is shorter than {MIN_SECRET_LENGTH} characters")
    hosts = getattr(settings, "CONFIGURED_ALLOWED_HOSTS", settings.ALLOWED_HOSTS)
    if not hosts:
        problems.append("DJANGO_ALLOWED_HOSTS is empty")
    elif "*" in hosts:
        problems.append("DJANGO_ALLOWED_HOSTS contains '*'")
    password = getattr(settings, "ADMIN_PASSWORD", "")
    if not password:
        problems.append("ADMIN_PASSWORD is empty")
    elif password == DEV_ADMIN_PASSWORD:
        problems.append("ADMIN_PASSWORD is the development default")
    return problems


def refusal_message(problems: list[str]) -> str:
    return (
        f"refusing to start with DEBUG off: {'; '.join(problems)}. "
        "Set them (README, 'Security model'), or DEVELOPMENT_MODE=true on a development machine."
    )


def refuse_to_start_if_insecure(settings) -> None:
    """Exit the process (status 3) with one line on stderr if its settings are unfit for production."""
    if development_allowed(settings):
        return
    problems = insecure_settings(settings)
    if problems:
        print(refusal_message(problems), file=sys.stderr, flush=True)
        raise SystemExit(REFUSED_EXIT_STATUS)
