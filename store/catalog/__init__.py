"""The catalog layer: the only code that speaks SQL. ``core`` holds the schema, the records, the
violations and the ledger; each further module of this package is the register of one more noun."""

from dangan.store.catalog.core import (  # noqa: F401 (the layer's public names)
    MIGRATIONS,
    SCHEMA_VERSION,
    Catalog,
    Event,
    FileRecord,
    StoredViolation,
    now,
    parent_of,
)
from dangan.store.catalog.drills import DrillRecord  # noqa: F401
from dangan.store.catalog.offsite import OffsiteRun, Shippable, Totals  # noqa: F401
from dangan.store.catalog.readings import MirrorBacklog  # noqa: F401
from dangan.store.catalog.readonly import LedgerEntry, ReadOnlyCatalog, Shape, StoredCopy  # noqa: F401
