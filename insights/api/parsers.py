"""The API's JSON body parser: bounded in size and depth, and only text that can be stored.

DRF's parser let three bodies through to a 500 or Django's HTML page (issue 27 item 14): a
lone surrogate (JSON's "\\ud800" decodes to a str that cannot be encoded as UTF-8, so the
answer naming it, or any query using it, fails), nesting deep enough to exhaust Python's
recursion limit, and a body larger than settings.DATA_UPLOAD_MAX_MEMORY_SIZE. Each is now a
client error with the documented shape, {"errors": {"body": ["..."]}} (insights.api.errors).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework import status  # type: ignore[import-untyped]
from rest_framework.exceptions import APIException, ParseError  # type: ignore[import-untyped]
from rest_framework.parsers import JSONParser  # type: ignore[import-untyped]

MAX_DEPTH = 32  # segments nest one level (filters); far more than any body needs


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "body_too_large"


def body_limit() -> int:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440


def _check(value: Any) -> None:
    """Refuse unpaired surrogates anywhere (keys too) and nesting past MAX_DEPTH; iterative."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ParseError(f"JSON nested more than {MAX_DEPTH} levels deep.")
        if isinstance(item, str):
            _text(item)
        elif isinstance(item, dict):
            for key, child in item.items():
                _text(key)
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)


def _text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ParseError("Text with an unpaired surrogate (\\ud800-\\udfff).") from None


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        if stream is None:
            return None
        limit = body_limit()
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise BodyTooLarge(f"The request body is larger than {limit} bytes.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(raw.decode(encoding), parse_constant=_no_constant)
        except RecursionError:
            raise ParseError(f"JSON nested more than {MAX_DEPTH} levels deep.") from None
        except (ValueError, UnicodeDecodeError) as error:
            raise ParseError(f"JSON parse error - {error}") from None
        _check(data)
        return data


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")
