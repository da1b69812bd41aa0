"""Prometheus metrics (text format): written to a file for node_exporter's textfile collector,
or served on a loopback port, as the config says."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

from dangan.store.atomic import write_atomic
from dangan.store.catalog import Catalog
from dangan.store.status import HELD


def _stamp(value: str | None) -> float:
    return datetime.fromisoformat(value).timestamp() if value else 0.0


def render(catalog: Catalog) -> str:
    files, size = catalog.gauges.holdings()
    unmirrored = catalog.gauges.unmirrored()
    lines = [
        "# HELP dangan_files Records in the archive catalog.", "# TYPE dangan_files gauge", f"dangan_files {files}",
        "# HELP dangan_bytes Bytes of the records.", "# TYPE dangan_bytes gauge", f"dangan_bytes {size}",
        "# HELP dangan_unmirrored Records not yet copied to the mirror disk.", "# TYPE dangan_unmirrored gauge",
        f"dangan_unmirrored {unmirrored}",
        "# HELP dangan_violations Open filing-rule violations.", "# TYPE dangan_violations gauge",
    ]
    for rule, count in catalog.gauges.open_violations_by_rule().items():
        lines.append(f'dangan_violations{{rule="{rule}"}} {count}')
    reconcile = catalog.get_meta("last_reconcile")
    offsite, audit = catalog.offsite.last_good_run(), catalog.audits.latest()
    last = {
        "mirror": _stamp(json.loads(reconcile)["at"] if reconcile else None),
        "offsite": _stamp(offsite.ended if offsite else None),
        "audit": _stamp(audit.at if audit else None),
    }
    lines += ["# HELP dangan_last_success_timestamp_seconds Last successful mirror reconcile, off-site run, audit.",
              "# TYPE dangan_last_success_timestamp_seconds gauge"]
    lines += [f'dangan_last_success_timestamp_seconds{{job="{job}"}} {value:.3f}' for job, value in last.items()]
    problems = audit.problems if audit else 0
    lines += ["# HELP dangan_audit_problems Fixity problems found by the last audit.",
              "# TYPE dangan_audit_problems gauge", f"dangan_audit_problems {problems}"]
    held = catalog.get_meta(HELD)
    lines += ["# HELP dangan_deletions_held Whether a mass deletion waits for confirmation.",
              "# TYPE dangan_deletions_held gauge", f"dangan_deletions_held {1 if held else 0}"]
    return "\n".join(lines) + "\n"


def write_textfile(catalog: Catalog, path: str) -> None:
    write_atomic(Path(path), render(catalog).encode("utf-8"), durable=False)


def serve(listen: str, produce: Callable[[], str]) -> ThreadingHTTPServer:
    """Serve /metrics on a loopback address (checked at config load) in a daemon thread."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            if self.path != "/metrics":
                self.send_error(404)
                return
            body = produce().encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, int(port)), Handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="metrics").start()
    return server
