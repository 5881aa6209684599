from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The benchmark: `manage.py bench_insights` and `python -m bench.<module>`; no models.

    It sits above every app (it seeds and measures all of them), so its command lives here
    rather than in insights, which must not import it.
    """

    name = "bench"
    verbose_name = "Benchmark"
