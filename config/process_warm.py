"""Pay a server process's one-time costs at start, not in its first request.

Django imports a view's module the first time a URL resolves to it, so the first request a
worker answered imported the API, the engine and numpy/scipy under it (docs/BENCHMARKS.md,
"Round nine: the first request of a process"): a manager's first read after a deploy or a
worker recycle took several times what the same read took a moment later. The WSGI and ASGI
entry points call this once, after Django is set up; `manage.py` commands and tests do not.
"""

from django.urls import get_resolver


def process_warm() -> None:
    """Load the URL conf and every view module it names (the whole resolver tree)."""
    # Building the reverse dictionary walks every pattern, into every included URL conf,
    # which is what imports their views.
    get_resolver().reverse_dict  # noqa: B018
