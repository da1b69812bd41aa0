#!/usr/bin/env python3
"""What one school costs a district's object store in S3 requests (issue 15, "For a district").

A real ``rclone serve s3`` on 127.0.0.1 (tests/partner.py ``start_district``: one bucket, a prefix
and an access key per school) logs every request it serves; this script counts them by operation for
one school's runs: the first (full) ``dangan backup``, a daily run after ``--changes`` changed files,
a daily run with nothing changed, and ``dangan backup --verify``. The school has ``--files`` small
files (1-8 KiB, random content) in folders of 100, like a task folder of the school's layout.

    python bench/district_requests.py                   # 2,000 files, 10 changes
    python bench/district_requests.py --files 20000
"""

from __future__ import annotations

import collections
import json
import os
import random
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from common import git_facts, parser, start, stamp  # noqa: E402
from partner import start_district, use_partner  # noqa: E402


def main() -> None:
    p = parser(__doc__, "/tmp/dangan-district-bench", "work folder (emptied)")
    p.add_argument("--files", type=int, default=2000)
    p.add_argument("--changes", type=int, default=10)
    args = p.parse_args()
    bench = start(args)
    base = bench.work / "run"
    subprocess.run(["rm", "-rf", str(base)], check=True)
    base.mkdir()
    store = start_district(base, ["east"])
    try:
        root, config = base / "archive", base / "etc" / "config.yaml"
        subprocess.run([bench.dangan, "init", "--config", str(config), "--archive-root", str(root),
                        "--mirror-root", str(base / "mirror"), "--state-dir", str(base / "state")],
                       check=True, capture_output=True)
        use_partner(type("School", (), {"config": config}), store.schools["east"])
        rng = random.Random(15)
        names = []
        for i in range(args.files):
            folder = root / "01办公室" / "A党建" / f"任务{i // 100:04d}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"照片{i:06d}.jpg").write_bytes(os.urandom(rng.randint(1024, 8192)))
            names.append(folder / f"照片{i:06d}.jpg")

        def run(label: str, *argv: str) -> dict:
            seen = len(store.operations())
            done = subprocess.run([bench.dangan, argv[0], "--config", str(config), *argv[1:]],
                                  capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
            counts = collections.Counter(operation for operation, _ in store.operations()[seen:])
            print(f"{label:<28} {sum(counts.values()):>7} requests  {dict(sorted(counts.items()))}", flush=True)
            return {"label": label, "requests": sum(counts.values()), "by_operation": dict(counts)}

        subprocess.run([bench.dangan, "mirror", "--config", str(config)], check=True, capture_output=True)
        results = [run("first backup (full)", "backup")]
        for path in rng.sample(names, args.changes):
            with open(path, "ab") as f:
                f.write(b"changed")
        subprocess.run([bench.dangan, "mirror", "--config", str(config)], check=True, capture_output=True)
        results.append(run(f"daily, {args.changes} changed", "backup"))
        results.append(run("daily, nothing changed", "backup"))
        results.append(run("backup --verify", "backup", "--verify"))
    finally:
        store.stop()
    print(json.dumps({"date": stamp(), "files": args.files, "changes": args.changes, **git_facts(bench.repo),
                      "commit": bench.commit, "results": results}, ensure_ascii=False))


if __name__ == "__main__":
    main()
