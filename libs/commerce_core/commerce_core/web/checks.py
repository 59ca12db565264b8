"""System checks of what every service's API accepts.

`manage.py check`, `migrate` and `runserver` run them, so a service that takes an
unbounded integer in a URL does not even start its setup."""

from django.core.checks import Error, Tags, register
from django.urls import URLResolver, get_resolver
from django.urls.converters import IntConverter


def _patterns(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        yield entry, route
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, route)


@register(Tags.urls)
def ids_in_urls_are_bounded(app_configs, **kwargs) -> list[Error]:
    """Every integer a URL takes goes through `<id:...>`: Django's `<int:...>` takes
    numbers no column stores, which then fail in the database (a 500)."""
    errors = []
    for entry, route in _patterns(get_resolver()):
        for name, converter in getattr(entry.pattern, "converters", {}).items():
            if isinstance(converter, IntConverter):
                errors.append(
                    Error(
                        f"URL {route!r} takes {name!r} with <int:{name}>, which accepts numbers no column stores.",
                        hint=f"Use <id:{name}> (commerce_core.web.converters): beyond the range of an id it is a 404.",
                        obj=route,
                        id="commerce_core.E001",
                    )
                )
    return errors
