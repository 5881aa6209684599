"""The engine kernel: what every figure section reads through.

* `cache`: the figure cache (single flight, warming after a rebuild's commit, keys derived from
  the answer's shape and the run id).
* `db`: running SQL (one time-zone rule) and the vendor expressions (PostgreSQL or SQLite).
* `numbers`: exact ratios and money from integers (ROUND_HALF_UP to 0.01).
* `distinct`: distinct customers over any day range from the gap-encoded cells.
* `warm`: the rebuild's warm-up, driven by the figure registry (insights.figures).
* `ranks`: exact k-th smallest values over sorted, indexed runs, reading a few blocks of each
  (the service percentiles).

The SQLite functions the SQL calls are registered per connection by insights.sqlite_functions
(a `connection_created` receiver). Section modules (queries, lifecycle, service, ...) use the
public names here only; tests/insights/test_engine_kernel.py holds them to that.
"""
