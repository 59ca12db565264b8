from django import forms
from django.core.exceptions import ValidationError
from rest_framework import exceptions, pagination

from .bounds import COLUMN_RANGES, integer_schema


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` and `?page_size=` as DRF reads them, but strictly: a page that is not
    a whole number from 1 to `MAX_PAGE`, or a page size outside 1 to `max_page_size`,
    is a 400 naming the parameter (DRF would answer 404 for the first, and silently
    use another size for the second). A well-formed page past the last is still a
    404 `not_found`, as in DRF: that page does not exist."""

    page_size_query_param = "page_size"
    max_page_size = 100
    #: A page number fits in 32 bits; nothing here comes near that many pages.
    MAX_PAGE = COLUMN_RANGES["IntegerField"][1]
    last_page_strings = ()  # `?page=last` is no number; the schema says integer

    def _whole_number(self, request, param: str, *, lowest: int, highest: int, default: int) -> int:
        raw = request.query_params.get(param)
        if raw is None or raw == "":
            return default
        try:
            return forms.IntegerField(min_value=lowest, max_value=highest).clean(raw)
        except ValidationError as exc:
            raise exceptions.ValidationError({param: exc.messages}) from None

    def get_page_size(self, request):
        return self._whole_number(
            request, self.page_size_query_param, lowest=1, highest=self.max_page_size, default=self.page_size
        )

    def get_page_number(self, request, paginator):
        return self._whole_number(request, self.page_query_param, lowest=1, highest=self.MAX_PAGE, default=1)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.page_query_param: (1, self.MAX_PAGE),
            self.page_size_query_param: (1, self.max_page_size),
        }
        for parameter in parameters:
            parameter["schema"] = integer_schema(*bounds[parameter["name"]])
            if parameter["name"] == self.page_query_param:
                parameter["description"] = "A page number; a page past the last is a 404."
        return parameters
