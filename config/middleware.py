"""Request guards that apply to every page and endpoint."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse


class RejectNulBytesMiddleware:
    """400 for a NUL character in the query string or a form field (issue 13, item 12).

    No text column can hold NUL (PostgreSQL refuses it mid-query), so a filter like
    `?source=a%00b` could only fail later as a 500; nothing legitimate sends one.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        bad = _with_nul(request.GET)
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            bad += _with_nul(request.POST)
        if not bad:
            return self.get_response(request)
        if request.path.startswith("/api/"):  # the API's errors are JSON, naming the parameter
            errors = {name: ["contains a NUL character"] for name in bad}
            return JsonResponse({"errors": errors}, status=400)
        return HttpResponseBadRequest(
            f"{', '.join(bad)}: contains a NUL character", content_type="text/plain"
        )


def _with_nul(params) -> list[str]:
    return [
        key.replace("\x00", "\\0")
        for key, values in params.lists()
        if "\x00" in key or any("\x00" in v for v in values)
    ]


class NoStoreJsonMiddleware:
    """`Cache-Control: no-store` on API answers (issue 13 item 11).

    They carry personal data (customers, their records, exports): no browser or proxy cache
    may keep a copy. Applies to every /api/ response, JSON or CSV.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/api/"):
            response["Cache-Control"] = "no-store"
        return response
