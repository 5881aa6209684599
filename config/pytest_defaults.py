"""A pytest plugin (`-p config.pytest_defaults` in pyproject), loaded before Django reads settings.

DEBUG defaults to False, so a start without settings is a production start and refuses the
development key; the test suite runs as development and says so here, explicitly.
"""

import os

os.environ.setdefault("DEBUG", "True")
