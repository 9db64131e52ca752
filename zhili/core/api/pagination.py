"""Page-number pagination that does not count the whole table unless asked (``?count=true``).

Counting a million filtered rows costs more than the page itself; ``next`` is known by
fetching one row more than the page.
"""

from collections import OrderedDict

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param


class FastPagination(BasePagination):
    page_size = 50
    max_page_size = 500

    def _int(self, request, name, default, minimum=1, maximum=None):
        raw = request.query_params.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ValidationError({name: ["A whole number is required."]}) from None
        if value < minimum or (maximum and value > maximum):
            raise ValidationError({name: [f"Must be between {minimum} and {maximum or '∞'}."]})
        return value

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page = self._int(request, "page", 1, maximum=10_000_000)
        self.size = self._int(request, "page_size", self.page_size, maximum=self.max_page_size)
        offset = (self.page - 1) * self.size
        rows = list(queryset[offset : offset + self.size + 1])
        self.has_next = len(rows) > self.size
        self.count = queryset.count() if request.query_params.get("count") in ("1", "true") else None
        return rows[: self.size]

    def get_paginated_response(self, data):
        url = self.request.build_absolute_uri()
        next_url = replace_query_param(url, "page", self.page + 1) if self.has_next else None
        prev_url = None
        if self.page > 1:
            prev_url = (
                replace_query_param(url, "page", self.page - 1)
                if self.page > 2
                else remove_query_param(url, "page")
            )
        body = OrderedDict([("next", next_url), ("previous", prev_url), ("results", data)])
        if self.count is not None:
            body["count"] = self.count
        return Response(body)

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "count": {"type": "integer", "description": "Only with ?count=true"},
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {"name": "page", "required": False, "in": "query", "schema": {"type": "integer", "minimum": 1}},
            {
                "name": "page_size",
                "required": False,
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
            {"name": "count", "required": False, "in": "query", "schema": {"type": "boolean"}},
        ]
