"""The stable rule ids. Admins script against them (JSON output, reports, config), so ids are
only ever added, never renamed."""

RULE_IDS: tuple[str, ...] = (
    "structure.department",
    "structure.category",
    "structure.depth",
    "naming.date",
    "naming.encoding",
    "naming.too-long",
    "format.not-allowed",
    "format.mismatch",
    "scan.camera",
    "scan.resolution",
    "readable.corrupt",
    "readable.encrypted",
    "folder.no-description",
    "duplicate",
)
