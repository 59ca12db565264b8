"""An audit of the inputs an OpenAPI document accepts: every one must be bounded.

The document is what the API validates (drf-spectacular derives it from the
serializer fields, the filters, the pagination and the path converters), so an
input it leaves unbounded is one the service hands on unchecked: an integer
without `minimum`/`maximum` reaches the database however large, a string without
`maxLength` is stored or compared however long. Every service's tests run
`unbounded_inputs` on its own document, and the end-to-end tests on the gateway's
merged one, so an endpoint added without bounds fails a test at once.

Bounded means:
- integer: `minimum` and `maximum`, both within 64 bits (what any column holds);
- number: `minimum` and `maximum`;
- string: `maxLength`, an `enum`, a format whose grammar bounds it (date, time,
  uuid...), or a decimal with its `pattern` (drf-spectacular writes DRF's
  DecimalField so, with the digits in the pattern);
- array: `maxItems`, and bounded items; object: every writable property bounded;
- boolean: always.
"""

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
BOUNDED_STRING_FORMATS = {"date", "date-time", "time", "uuid", "duration"}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def unbounded_inputs(document: dict) -> list[str]:
    """One line per unbounded input of `document`, e.g.
    "POST /api/cart/items/ body.product_id: an integer without maximum"."""
    problems: list[str] = []
    for path, item in (document.get("paths") or {}).items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            where = f"{method.upper()} {path}"
            for parameter in (*item.get("parameters", ()), *operation.get("parameters", ())):
                parameter = _resolve(document, parameter)
                label = f"{where} {parameter['in']} parameter {parameter['name']!r}"
                _audit(document, parameter.get("schema", {}), label, problems, set())
            body = operation.get("requestBody")
            if body:
                for media_type, content in _resolve(document, body).get("content", {}).items():
                    _audit(document, content.get("schema", {}), f"{where} body ({media_type})", problems, set())
    return problems


def _resolve(document: dict, node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        target = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _audit(document: dict, schema: dict, where: str, problems: list[str], seen: set[str]) -> None:
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return  # a recursive schema: its other occurrences are audited
        seen = seen | {schema["$ref"]}
        schema = _resolve(document, schema)
    if schema.get("readOnly"):
        return  # never taken from a client
    combined = [sub for key in ("allOf", "anyOf", "oneOf") for sub in schema.get(key, ())]
    for sub in combined:
        _audit(document, sub, where, problems, seen)
    if "enum" in schema or "const" in schema:
        return
    kind = schema.get("type")
    if kind == "integer":
        for bound in ("minimum", "maximum"):
            value = schema.get(bound, schema.get(f"exclusive{bound.capitalize()}"))
            if not isinstance(value, int) or isinstance(value, bool):
                problems.append(f"{where}: an integer without {bound}")
            elif not INT64_MIN <= value <= INT64_MAX:
                problems.append(f"{where}: an integer whose {bound} {value} is beyond 64 bits")
    elif kind == "number":
        for bound in ("minimum", "maximum"):
            if bound not in schema and f"exclusive{bound.capitalize()}" not in schema:
                problems.append(f"{where}: a number without {bound}")
    elif kind == "string":
        bounded = (
            "maxLength" in schema
            or schema.get("format") in BOUNDED_STRING_FORMATS
            or (schema.get("format") == "decimal" and "pattern" in schema)
        )
        if not bounded:
            problems.append(f"{where}: a string without maxLength")
    elif kind == "array":
        if "maxItems" not in schema:
            problems.append(f"{where}: an array without maxItems")
        _audit(document, schema.get("items", {}), f"{where}[]", problems, seen)
    elif kind == "object" or "properties" in schema:
        for name, prop in (schema.get("properties") or {}).items():
            _audit(document, prop, f"{where}.{name}", problems, seen)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            _audit(document, extra, f"{where}.*", problems, seen)
    elif kind is None and not combined:
        problems.append(f"{where}: a value of any type")
