"""One OpenAPI 3 document for the whole platform, merged from every service's own.

Services already publish their paths under their public prefix, so paths merge as
they are. Component names do not: every service has its own `Error`-like or
`PaginatedX` schemas, so each service's components are renamed with its name in
front (`Product` of the catalog becomes `CatalogProduct`) and every `$ref` (and
discriminator mapping) of its document is rewritten to match.

Operation ids must be unique in a document too; one that another service already
used gets the service's name in front.

The merged document is cached briefly. A service that is down is left out and
named in `info.x-unavailable`; the document is then cached for a shorter time so
that it is complete again soon after the service is back.
"""

import asyncio
import json
import logging
import time

from django.conf import settings
from proxy import client

from commerce_core.settings.topology import SERVICES, Project

logger = logging.getLogger(__name__)

TITLE = "Commerce platform API"
COMPONENT_SECTIONS = (
    "schemas",
    "responses",
    "parameters",
    "examples",
    "requestBodies",
    "headers",
    "links",
    "callbacks",
)
BEARER_AUTH = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
#: How long a document missing some service is reused.
INCOMPLETE_CACHE_SECONDS = 5.0
_REF_ROOT = "#/components/"


def component_prefix(service: str) -> str:
    return "".join(part.capitalize() for part in service.replace("-", "_").split("_"))


def _renamer(prefix: str, components: dict):
    names = {section: set(components.get(section) or ()) for section in COMPONENT_SECTIONS}

    def rename(ref: str) -> str:
        if not ref.startswith(_REF_ROOT):
            return ref
        section, _, rest = ref[len(_REF_ROOT) :].partition("/")
        name, slash, tail = rest.partition("/")
        if name in names.get(section, ()):
            return f"{_REF_ROOT}{section}/{prefix}{name}{slash}{tail}"
        return ref

    return rename


def _rewrite_refs(node, rename):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out[key] = rename(value)
            elif key == "mapping" and isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
                out[key] = {k: rename(v) for k, v in value.items()}  # a discriminator's mapping
            else:
                out[key] = _rewrite_refs(value, rename)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, rename) for item in node]
    return node


def _make_operation_ids_unique(path_item: dict, service: str, seen: set[str]) -> None:
    for operation in path_item.values():
        if not isinstance(operation, dict) or "operationId" not in operation:
            continue
        if operation["operationId"] in seen:
            operation["operationId"] = f"{service}_{operation['operationId']}"
        seen.add(operation["operationId"])


def merge_schemas(documents: dict[str, dict], *, unavailable: list[str] = ()) -> dict:
    """Merge service documents ({service name: OpenAPI dict}) into one."""
    info = {
        "title": TITLE,
        "version": settings.SPECTACULAR_SETTINGS.get("VERSION", "1.0.0"),
        "description": "Every service of the platform behind the gateway. Authenticate with "
        "`Authorization: Bearer <access token>` from `POST /api/auth/token/`.",
    }
    if unavailable:
        info["x-unavailable"] = sorted(unavailable)
    paths: dict = {}
    components: dict = {"securitySchemes": {"bearerAuth": dict(BEARER_AUTH)}}
    tags: dict[str, dict] = {}
    operation_ids: set[str] = set()

    for service, document in documents.items():
        prefix = component_prefix(service)
        own_components = document.get("components") or {}
        document = _rewrite_refs(document, _renamer(prefix, own_components))
        for section in COMPONENT_SECTIONS:
            for name, value in (document.get("components", {}).get(section) or {}).items():
                components.setdefault(section, {})[f"{prefix}{name}"] = value
        for name, scheme in (document.get("components", {}).get("securitySchemes") or {}).items():
            components["securitySchemes"].setdefault(name, scheme)
        for path, item in (document.get("paths") or {}).items():
            if path in paths:
                logger.warning("path %s is published by two services; keeping the first", path)
                continue
            paths[path] = item
            _make_operation_ids_unique(item, service, operation_ids)
        for tag in document.get("tags") or ():
            tags.setdefault(tag["name"], tag)

    merged = {"openapi": "3.0.3", "info": info, "paths": paths, "components": components}
    if tags:
        merged["tags"] = list(tags.values())
    return merged


def schema_url(project: Project) -> str:
    segment = project.api_prefix.strip("/").split("/")[-1]  # "/api/catalog/" -> "catalog"
    return f"{project.url}/api/{segment}/schema/?format=json"


async def _fetch(project: Project, timeout: float) -> dict | None:
    try:
        status, body = await client.get(schema_url(project), timeout=timeout)
        if status != 200:
            raise ValueError(f"HTTP {status}")
        document = json.loads(body)
        if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
            raise ValueError("not an OpenAPI document")
    except Exception as exc:  # any failure leaves this service out of the document, never the whole of it
        logger.warning("OpenAPI document of %s unavailable: %s", project.name, exc or type(exc).__name__)
        return None
    return document


_cached: tuple[float, dict] | None = None


async def platform_schema() -> dict:
    global _cached
    now = time.monotonic()
    if _cached is not None and _cached[0] > now:
        return _cached[1]
    options = settings.GATEWAY
    fetched = await asyncio.gather(*(_fetch(project, options["SCHEMA_TIMEOUT"]) for project in SERVICES))
    documents = {project.name: doc for project, doc in zip(SERVICES, fetched, strict=True) if doc is not None}
    unavailable = [project.name for project, doc in zip(SERVICES, fetched, strict=True) if doc is None]
    merged = merge_schemas(documents, unavailable=unavailable)
    lifetime = INCOMPLETE_CACHE_SECONDS if unavailable else options["SCHEMA_CACHE_SECONDS"]
    _cached = (time.monotonic() + lifetime, merged)
    return merged


def forget_cached_schema() -> None:
    global _cached
    _cached = None
