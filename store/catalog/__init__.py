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
