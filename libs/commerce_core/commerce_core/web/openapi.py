"""The OpenAPI documents of the services (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]):
drf-spectacular's, plus the error responses each operation really returns, all in
the platform's one error shape (`errors.error_body`).

What an operation can answer is derived from the operation itself, so a new
endpoint declares its errors without anyone thinking of it:

- 400 when it takes a body or query or header parameters (`validation_error` with
  `fields`, `parse_error` for a body that is not JSON);
- 401 always: the gateway refuses an invalid or expired token on every path, and
  an operation whose permissions refuse anonymous callers answers
  `not_authenticated` to them;
- 403 when a permission refuses a signed-in customer (found by asking the view's
  permission classes about one);
- 404 when the path names something (an id out of range included: the `id`
  converter does not match it), or the list is paginated (a page past the last);
- 413 and 415 when it takes a body (too large for `MAX_BODY_BYTES`, refused by the
  gateway; not `application/json`).

Business errors (409, 422, ...) and better descriptions are declared by the view
with `extend_schema(responses={409: error_response("...")})`; a declared 4xx
without a body schema gets the error shape.
"""

from types import SimpleNamespace

from django.contrib.auth.models import AnonymousUser
from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from commerce_core.identity.principal import Principal


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable and machine-readable, e.g. `validation_error`, `not_found`.")
    message = serializers.CharField(help_text="For people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Present on validation errors: the messages of each invalid field or parameter.",
    )


class ErrorSerializer(serializers.Serializer):
    """Every 4xx and 5xx of the platform."""

    error = ErrorDetailSerializer()


def error_response(description: str) -> OpenApiResponse:
    """An error answer of an operation, for `extend_schema(responses={...})`."""
    return OpenApiResponse(response=ErrorSerializer, description=description)


_SIGNED_IN_CUSTOMER = Principal(id=1, username="customer", is_staff=False)


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for status, description in self.error_responses(operation).items():
            responses.setdefault(status, {"description": description})
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        for status, response in responses.items():
            if status[0] in "45" and "content" not in response:
                response["content"] = {"application/json": {"schema": error}}
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def error_responses(self, operation: dict) -> dict[str, str]:
        """{status: description} of the errors `operation` can answer with."""
        parameters = operation.get("parameters", [])
        locations = {parameter["in"] for parameter in parameters}
        takes_body = "requestBody" in operation
        errors = {}
        if takes_body or locations & {"query", "header"}:
            errors["400"] = (
                "Invalid input: `validation_error` with the messages of each invalid field or parameter in "
                "`fields`, or `parse_error` for a body that is not JSON."
            )
        if self._refuses(AnonymousUser()):
            errors["401"] = "Not signed in (`not_authenticated`), or an invalid or expired access token."
        else:
            errors["401"] = "An invalid or expired access token (`invalid_token`): signing in is optional here."
        if self._refuses(_SIGNED_IN_CUSTOMER):
            errors["403"] = "The caller may not do this (`permission_denied`)."
        if "path" in locations:
            errors["404"] = "No such resource (`not_found`), an id out of range included."
        elif any(parameter["name"] == "page" for parameter in parameters):
            errors["404"] = "A page past the last (`not_found`)."
        if takes_body:
            errors["413"] = "A body over the size limit (`payload_too_large`)."
            errors["415"] = "A body that is not `application/json` (`unsupported_media_type`)."
        return errors

    def _refuses(self, user) -> bool:
        """Whether one of the view's permissions refuses `user` for this method."""
        request = SimpleNamespace(method=self.method, user=user, auth=None)
        for permission in self.view.get_permissions():
            try:
                if not permission.has_permission(request, self.view):
                    return True
            except Exception:  # a permission that needs more of the request may refuse
                return True
        return False
