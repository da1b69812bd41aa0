#!/usr/bin/env python3
"""Precision and recall of the filing rules on the labelled corpus (issue 14), and the first
check's throughput against the bare validation calls on the same files.

Lays the corpus (``bench/corpus.py`` builds it) out in a fresh archive made by ``dangan init``:
the modelled certificates in a scan-only task folder (``A2获奖证书``), everything else in an
ordinary one, each file under a neutral numbered name with its own extension. Then

    first    dangan check --format json, fresh state dir (every file hashed and inspected), timed
    bare     in this process, one after the other, the validation calls dangan builds on, with
             nothing else: pypdf strict (every page's resources and contents read) + pikepdf open
             and check_pdf_syntax, Pillow open+load (simplejpeg strict decode for JPEG),
             zipfile testzip, olefile reading every stream

and prints, per rule, precision and recall over the labelled files (a finding counts when its
severity is error; warnings — a phone maker's name alone, a codec this build lacks — are listed
apart), every false positive and false negative with what dangan said, and the overhead ratio.

    python bench/rules_bench.py                      # uses bench/out/corpus, .venv/bin/dangan
    python bench/rules_bench.py --json out.json      # also the raw results
"""

from __future__ import annotations

import argparse
import ctypes
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from statistics import median
from pathlib import Path

HERE = Path(__file__).resolve().parent
RULES = ("readable.corrupt", "readable.encrypted", "format.mismatch", "scan.camera", "scan.resolution")
TASK = "01办公室/A标准建设/A1制度建设"
SCAN = "01办公室/A标准建设/A2获奖证书"  # 证书: a scan-only context


def load(labels: Path) -> list[dict]:
    with open(labels, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def lay_out(entries: list[dict], files: Path, root: Path) -> dict[str, dict]:
    """Copies every file into the archive; returns archive path -> entry."""
    where = {}
    for i, entry in enumerate(entries):
        ext = Path(entry["path"]).suffix.lower()
        rel = f"{SCAN if entry.get('scan') else TASK}/{i:04d}{ext}"
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(files / entry["path"], target)
        where[rel] = entry
    return where


def become_subreaper() -> None:
    """Orphans of this process's children become its children (prctl PR_SET_CHILD_SUBREAPER): the check's
    fork server and its workers, which ``dangan`` never waits for, are then reaped here, and their CPU
    time reaches this process's RUSAGE_CHILDREN."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(36, 1, 0, 0, 0) != 0:
        sys.exit(f"prctl(PR_SET_CHILD_SUBREAPER) failed: errno {ctypes.get_errno()}")


def reap_all() -> None:
    """Wait until every descendant has exited (the fork server leaves when its parent has)."""
    while True:
        try:
            os.wait()
        except ChildProcessError:
            return


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def findings(report: dict) -> set[str]:
    """A report's findings, without when each was first seen (every round's check starts afresh)."""
    return {json.dumps({k: v for k, v in found.items() if k != "first_seen"}, ensure_ascii=False, sort_keys=True)
            for found in report["violations"]}


def run_check(dangan: str, base: Path, root: Path) -> tuple[float, float, dict, int]:
    """A first check into a fresh state dir under ``base``: wall time, CPU of the whole process tree
    (main process, fork server, workers), the report, the exit code."""
    config = base / "config.yaml"
    subprocess.run([dangan, "init", "--config", str(config), "--archive-root", str(root), "--mirror-root",
                    str(base / "mirror"), "--state-dir", str(base / "state")], check=True, capture_output=True)
    reap_all()
    cpu = children_cpu()
    start = time.perf_counter()
    done = subprocess.run([dangan, "check", "--config", str(config), "--format", "json"], capture_output=True)
    elapsed = time.perf_counter() - start
    reap_all()
    cpu = children_cpu() - cpu
    if done.returncode not in (0, 1):
        sys.exit(f"dangan check exited {done.returncode}: {done.stderr.decode('utf-8', 'replace')[-2000:]}")
    return elapsed, cpu, json.loads(done.stdout), done.returncode


# == the bare validation calls ===================================================================
def bare_validate(data: bytes) -> str:
    """The libraries' own checks of one file, chosen by its magic number; the outcome in a word."""
    try:
        if data[:5] == b"%PDF-" or b"%PDF-" in data[:1024]:
            import pikepdf
            from pypdf import PdfReader

            reader = PdfReader(io.BytesIO(data), strict=True)
            if reader.is_encrypted:
                return "encrypted"
            for page in reader.pages:
                resources = page.get("/Resources")
                if resources is not None:
                    resources.get_object()
                contents = page.get_contents()
                if contents is not None:
                    contents.get_data()
            with pikepdf.open(io.BytesIO(data)) as pdf:
                pdf.check_pdf_syntax()
                for page in pdf.pages:
                    pikepdf.parse_content_stream(page)
            return "ok"
        if data[:2] == b"\xff\xd8":
            import simplejpeg
            from PIL import Image

            Image.open(io.BytesIO(data)).getexif()
            simplejpeg.decode_jpeg(data, min_factor=8, strict=True)
            return "ok"
        if data[:8] == b"\x89PNG\r\n\x1a\n" or data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
            from PIL import Image

            with Image.open(io.BytesIO(data)) as im:
                im.getexif()
                im.load()
            return "ok"
        if data[:4] == b"PK\x03\x04":
            import zipfile

            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                return "ok" if zf.testzip() is None else "damaged"
        if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            import olefile

            with olefile.OleFileIO(io.BytesIO(data)) as ole:
                for entry in ole.listdir(streams=True, storages=False):
                    with ole.openstream(entry) as s:
                        s.read()
            return "ok"
        return "unknown"
    except Exception:  # noqa: BLE001 - a failure is the outcome
        return "damaged"


def bare_run(paths: list[Path]) -> tuple[float, float, Counter]:
    """The bare calls over ``paths`` in this process: wall time, CPU time, outcomes."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None
    outcomes: Counter = Counter()
    start, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        streams = sys.stdout, sys.stderr
        for path in paths:
            with open(path, "rb") as f:
                outcomes[bare_validate(f.read())] += 1
            sys.stdout, sys.stderr = streams  # pikepdf 10.18's check_pdf_syntax leaves sys.stderr at a StringIO
    return time.perf_counter() - start, time.process_time() - cpu, outcomes


# == scoring =======================================================================================
def score(where: dict[str, dict], report: dict) -> dict:
    said: dict[str, list[dict]] = defaultdict(list)
    for v in report["violations"]:
        said[v["path"]].append(v)
    table, mistakes, warned = {}, defaultdict(list), defaultdict(list)
    for rule in RULES:
        tp = fp = fn = tn = 0
        for rel, entry in where.items():
            label = entry.get("labels", {}).get(rule)
            if label is None:
                continue
            found = [v for v in said.get(rel, []) if v["rule"] == rule]
            flagged = any(v["severity"] == "error" for v in found)
            if found and not flagged:
                warned[rule].append((entry, found))
            if flagged and label:
                tp += 1
            elif flagged:
                fp += 1
                mistakes[rule].append(("FP", entry, said.get(rel, [])))
            elif label:
                fn += 1
                mistakes[rule].append(("FN", entry, said.get(rel, [])))
            else:
                tn += 1
        table[rule] = {"tp": tp, "fp": fp, "fn": fn, "tn": tn,
                       "precision": tp / (tp + fp) if tp + fp else None, "recall": tp / (tp + fn) if tp + fn else None}
    return {"table": table, "mistakes": mistakes, "warned": warned}


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def _said(violations: list[dict]) -> str:
    return "; ".join(f"{v['rule']}[{v['severity']}]: {v['message']}" for v in violations
                     if v["rule"] in RULES) or "nothing"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=HERE / "out" / "corpus")
    parser.add_argument("--dangan", default=str(HERE.parent / ".venv" / "bin" / "dangan"))
    parser.add_argument("--json", type=Path, help="write the raw results here")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the archive (its path is printed)")
    args = parser.parse_args(argv)

    entries = load(args.corpus / "labels.jsonl")
    base = Path(tempfile.mkdtemp(prefix="dangan-rules-bench-"))
    root = base / "archive"
    where = lay_out(entries, args.corpus / "files", root)
    paths = [root / rel for rel in where]
    size = sum(p.stat().st_size for p in paths)
    for p in paths:  # warm page cache for both runs alike
        p.read_bytes()

    become_subreaper()
    # the libraries imported before any round: importing is not the calls' own time
    import olefile, pikepdf, pypdf, simplejpeg  # noqa: F401, E401
    rounds: list[dict] = []
    report, code, outcomes = None, None, None
    for number in range(1, args.rounds + 1):
        # interleaved, the order alternating (bare first in odd rounds), so drift on the shared machine
        # weighs on both alike; every round's check starts from a fresh state dir
        timed: dict = {}
        for step in (("bare", "check") if number % 2 else ("check", "bare")):
            if step == "bare":
                timed["bare_s"], timed["bare_cpu"], counted = bare_run(paths)
                if outcomes is not None and counted != outcomes:
                    sys.exit(f"round {number}: the bare calls gave {counted}, before {outcomes}")
                outcomes = counted
            else:
                timed["check_s"], timed["check_cpu"], said, code = run_check(args.dangan, base / f"r{number}", root)
                if report is not None and findings(said) != findings(report):
                    before, now = findings(report), findings(said)
                    sys.exit(f"round {number}: the check's findings differ from round 1's:\n  only before: "
                             f"{sorted(before - now)[:5]}\n  only now: {sorted(now - before)[:5]}")
                report = said
        timed["ratio"], timed["cpu_ratio"] = timed["check_s"] / timed["bare_s"], timed["check_cpu"] / timed["bare_cpu"]
        rounds.append(timed)
        print(f"round {number}: check {timed['check_s']:.2f} s (CPU {timed['check_cpu']:.2f} s), bare "
              f"{timed['bare_s']:.2f} s (CPU {timed['bare_cpu']:.2f} s): {timed['ratio']:.2f}x, CPU "
              f"{timed['cpu_ratio']:.2f}x", file=sys.stderr, flush=True)
    result = score(where, report)

    labelled = [e for e in entries if e.get("labels")]
    print(f"corpus: {len(entries)} files ({size / 1e6:.1f} MB), {len(labelled)} labelled, "
          f"{sum(1 for e in entries if e.get('disputed'))} disputed (kept out of the scores)")
    print("labelled by format:", ", ".join(f"{k} {v}" for k, v in sorted(Counter(
        e['format'] for e in labelled).items())))
    print("labelled by origin:", ", ".join(f"{k} {v}" for k, v in sorted(Counter(
        e["origin"].split(":")[0].split(" ")[0] for e in labelled).items())))
    print()
    print("| rule | precision | recall | TP | FP | FN | TN |")
    print("|---|---|---|---|---|---|---|")
    for rule, row in result["table"].items():
        print(f"| {rule} | {_fmt(row['precision'])} | {_fmt(row['recall'])} | {row['tp']} | {row['fp']} | "
              f"{row['fn']} | {row['tn']} |")
    scanner_camera = [(e, s) for kind, e, s in result["mistakes"].get("scan.camera", [])
                      if kind == "FP" and "/scanners/" in e["path"]]
    print(f"\nscan.camera errors on scanner/copier families: {len(scanner_camera)}")
    print(f"\nthroughput, {len(paths)} files, {size / 1e6:.1f} MB, {len(rounds)} interleaved rounds "
          f"(check exit {code}; bare outcomes {dict(outcomes)}):")
    print("| round | first check s | files/s | CPU s, whole tree | bare calls s | files/s | CPU s | ratio | "
          "CPU ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for number, r in enumerate(rounds, 1):
        print(f"| {number} | {r['check_s']:.2f} | {len(paths) / r['check_s']:.0f} | {r['check_cpu']:.2f} | "
              f"{r['bare_s']:.2f} | {len(paths) / r['bare_s']:.0f} | {r['bare_cpu']:.2f} | {r['ratio']:.2f}x | "
              f"{r['cpu_ratio']:.2f}x |")
    worst, middle = max(r["ratio"] for r in rounds), median(r["ratio"] for r in rounds)
    print(f"overhead: worst round {worst:.2f}x, median {middle:.2f}x (goal <= 1.3x in the worst round: "
          f"{'met' if worst <= 1.3 else 'NOT met'}); CPU: worst {max(r['cpu_ratio'] for r in rounds):.2f}x, "
          f"median {median(r['cpu_ratio'] for r in rounds):.2f}x")
    for rule in RULES:
        mistakes = result["mistakes"].get(rule, [])
        if mistakes:
            print(f"\n== {rule}: {len(mistakes)} mistakes")
            for kind, entry, said in mistakes:
                print(f"  {kind} {entry['path']}  [{entry['origin'][:90]}]\n      dangan: {_said(said)[:300]}")
        if result["warned"].get(rule):
            print(f"\n-- {rule}: {len(result['warned'][rule])} warnings (not counted as findings)")
            for entry, found in result["warned"][rule][:15]:
                print(f"  {entry['path']}: {found[0]['message'][:200]}")
    if args.json:
        args.json.write_text(json.dumps({
            "table": result["table"], "rounds": rounds, "files": len(paths),
            "bytes": size, "mistakes": {r: [(k, e["path"], e["origin"], _said(s)) for k, e, s in m]
                                        for r, m in result["mistakes"].items()}}, ensure_ascii=False, indent=1))
    if args.keep:
        print(f"\narchive kept: {base}")
    else:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
