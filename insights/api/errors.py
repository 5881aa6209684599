"""One exception handler for the API: every client error is JSON naming what is wrong."""

from typing import Any

from django.core.exceptions import RequestDataTooBig
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from insights.periods import PeriodError

from .parsers import BodyTooLarge, body_limit


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with PeriodError mapped to 400 and validation errors as {"errors": {...}}.

    Bad parameters answer `{"errors": {"<param>": ["<what is wrong>"]}}`, so a client can point
    at the parameter; other errors (401, 403, 404, 429) keep DRF's `{"detail": "..."}`.
    """
    if isinstance(exc, PeriodError):
        return Response({"errors": {exc.param: [exc.message]}}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RequestDataTooBig):  # Django read the body first: the same answer
        exc = BodyTooLarge(f"The request body is larger than {body_limit()} bytes.")
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ParseError | BodyTooLarge):
        # A body that cannot be read names the body (issue 27 item 14).
        response.data = {"errors": {"body": [str(exc.detail)]}}
        return response
    if response is not None and isinstance(exc, exceptions.ValidationError):
        detail = response.data
        if not isinstance(detail, dict):
            detail = {"non_field_errors": detail if isinstance(detail, list) else [detail]}
        response.data = {"errors": _flat(detail)}
    return response


def _flat(detail: dict[str, Any], prefix: str = "") -> dict[str, list[str]]:
    """{"param": ["message", ...]} whatever the nesting: a nested serializer's or a dict
    field's errors ({"filters": {"city": [...]}}) become {"filters.city": [...]}, and a list
    of per-item errors ([{...}, {}]) "param.0.field", so every answer has the documented shape.
    """
    flat: dict[str, list[str]] = {}
    for key, value in detail.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flat(value, f"{name}."))
        elif isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
            for index, item in enumerate(value):
                if isinstance(item, dict | list):
                    nested = item if isinstance(item, dict) else {"": item}
                    flat.update(_flat(nested, f"{name}.{index}."))
                elif item:
                    flat.setdefault(name, []).append(str(item))
        else:
            items = value if isinstance(value, list) else [value]
            flat.setdefault(name, []).extend(str(item) for item in items)
    return {key.rstrip("."): messages for key, messages in flat.items()}
