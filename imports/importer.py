"""Loading CSV files into the domain (CONTRACT.md section 1): `import_records KIND PATH`.

The file is streamed in batches: each batch resolves its references with one query per
referenced table, compares itself with the rows already stored (one query) and writes with one
bulk upsert, so a load costs a handful of queries per few thousand rows, never one per row.
A row is validated whole before anything of it is written, so it is never half-written.
"""

from imports.driver import BATCH_SIZE, import_records, records_imported
from imports.kinds import KINDS, Kind
from imports.results import (
    ImportFileError,
    ImportResult,
    Rejection,
    rejected_rows_writer,
)

__all__ = [
    "BATCH_SIZE",
    "KINDS",
    "ImportFileError",
    "ImportResult",
    "Kind",
    "Rejection",
    "import_records",
    "records_imported",
    "rejected_rows_writer",
]
