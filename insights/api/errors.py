"""One exception handler for the API: every client error is JSON naming what is wrong."""

from typing import Any

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from insights.periods import PeriodError


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with PeriodError mapped to 400 and validation errors as {"errors": {...}}.

    Bad parameters answer `{"errors": {"<param>": ["<what is wrong>"]}}`, so a client can point
    at the parameter; other errors (401, 403, 404, 429) keep DRF's `{"detail": "..."}`.
    """
    if isinstance(exc, PeriodError):
        return Response({"errors": {exc.param: [exc.message]}}, status=status.HTTP_400_BAD_REQUEST)
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        detail = response.data
        if not isinstance(detail, dict):
            detail = {"non_field_errors": detail if isinstance(detail, list) else [detail]}
        response.data = {"errors": detail}
    return response
