#!/usr/bin/env python3
"""Benchmark of ``dangan export`` (issue 17): time and peak memory of large registers.

Two measurements, each in a fresh child process whose peak RSS is its own VmHWM (not ru_maxrss, which
Linux carries over from the parent):

    writer     --rows synthetic directory rows (default 1,000,000) through the register writer
               (registers/sheet.py) as .xlsx (openpyxl write-only), .html and .json
    directory  the whole ``dangan export directory --format xlsx`` on a catalog of --records records
               (default 200,000) in one department, inserted directly into a fresh catalog (no files:
               the register reads only the catalog), numbers assigned for the closed years

The issue's goal: an export of 1,000,000 records streams and stays under 300 MiB.

    .venv/bin/python bench/export_bench.py [--rows N] [--records N] [--dir DIR] [--only writer|directory]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WRITER = """
import sys
from pathlib import Path
from dangan.registers.sheet import Register, Row, Table, save
rows, fmt, out = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
def cells(n):
    return Row([n, f"Z109-WS·2024-Y-BGS-{n:07d}", "", "01办公室", f"第{n}份文件的题名，会议纪要与通知",
                "20240105", "", 3, ""], f"01办公室/A标准建设/A1制度建设/20240105第{n}份.pdf".encode())
columns = ["序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "备注"]
save(Register("directory", "归档文件目录", "学校", "now", iter([Table([("年度", "2024")], columns,
     (cells(n) for n in range(1, rows + 1)))])), fmt, out)
print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) // 1024)
"""

DIRECTORY = """
import json, os, sys
from pathlib import Path
from dangan.cli.main import main
from dangan.store.catalog import Catalog, FileRecord, now
config, state, records, out = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
with Catalog(state / "catalog.sqlite") as catalog:
    stamp = now()
    facts = json.dumps({"v": 3, "kind": "pdf", "pages": 2})
    with catalog.transaction():
        catalog.put(FileRecord(
            f"01办公室/A标准建设/A{n % 100}任务/20{20 + n % 5}0{1 + n % 9}1{n % 9}文件{n}.pdf".encode(),
            1000 + n, 0, n, f"{n:064x}", "sha256", facts, "01办公室", "A标准建设", stamp, stamp)
                    for n in range(records))
code = main(["export", "directory", "--config", config, "--out", out])
assert code == 0, code
print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) // 1024)
"""


def timed(args: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the measured child failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return time.perf_counter() - start, int(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--only", choices=("writer", "directory"))
    options = parser.parse_args()
    work = options.dir or Path(tempfile.mkdtemp(prefix="dangan-export-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    results = {}
    if options.only in (None, "writer"):
        for fmt in ("xlsx", "json", "html"):
            out = work / f"writer.{fmt}"
            seconds, peak = timed([WRITER, str(options.rows), fmt, str(out)])
            results[f"writer.{fmt}"] = {"rows": options.rows, "seconds": round(seconds, 1), "peak_mib": peak,
                                        "file_mib": round(out.stat().st_size / 2**20, 1)}
            print(json.dumps({f"writer.{fmt}": results[f"writer.{fmt}"]}), flush=True)
    if options.only in (None, "directory"):
        base = work / "archive"
        subprocess.run([str(Path(sys.executable).with_name("dangan")), "init", "--config", str(base / "c.yaml"),
                        "--archive-root", str(base / "a"), "--mirror-root", str(base / "m"), "--state-dir",
                        str(base / "s")], check=True, capture_output=True)
        out = work / "directory.xlsx"
        seconds, peak = timed([DIRECTORY, str(base / "c.yaml"), str(base / "s"), str(options.records), str(out)])
        results["directory.xlsx"] = {"records": options.records, "seconds": round(seconds, 1), "peak_mib": peak,
                                     "file_mib": round(out.stat().st_size / 2**20, 1)}
        print(json.dumps({"directory.xlsx": results["directory.xlsx"]}), flush=True)


if __name__ == "__main__":
    main()
