#!/usr/bin/env python3
"""Benchmark of ``dangan check`` over a generated archive (issue 2).

Generates once (cached under ``--dir``) an archive tree in the school's layout

    NN处室/类别/任务文件夹/files      (15 departments x 6 categories, ~100 files per task folder)

holding a realistic mix of small records: JPEG photos with and without phone EXIF (Pillow,
unique content, a few KB to 30 KB), tiny born-digital PDFs written by hand (text with a font,
1-4 pages), real .docx files made with python-docx (activity descriptions), and UTF-8 .txt
notes. A few problems are planted on purpose, as in a real archive: photo folders without a
description or with an incomplete one, photos named without a date, duplicate copies.

Then measures, interleaved round after round (``--repeat``):

    find     find ARCHIVE -type f -printf '%s %T@ %p\\n' > /dev/null      (the anchor: one stat per file)
    first    dangan check --format json, on a fresh state dir (empty catalog: every file is read)
    second   dangan check --format json, right after (catalog warm, nothing changed)

each as a child process, timed with perf_counter, with its rusage from os.wait4 (peak RSS of
the dangan process itself, CPU of everything it reaped) and the peak RSS/PSS of its whole
process tree (the check's worker processes are grandchildren that wait4 does not always see),
sampled from /proc every ``--sample`` seconds.

All runs see a warm page cache (the tree is read once before the first round); dropping the
caches needs root and disturbs everybody else on a shared machine.

    python bench/check_bench.py                 # 50,000 files, 3 rounds
    python bench/check_bench.py --quick         # 2,000 files, 1 round: smoke test
"""

from __future__ import annotations

import io
import json
import math
import multiprocessing
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import descendants, git_facts, launcher, parser as bench_parser, pin_sources, q, source_digest, stamp  # noqa: E402

GENERATOR_VERSION = 1  # bump when the generated tree changes: old caches are then regenerated

DEPARTMENTS = ["01办公室", "02教务处", "03实训处", "04学生处", "05财务室", "06后勤处", "07招生就业处",
               "08宣教处", "09教学一处", "10教学二处", "11工会", "12团委会", "13安全处", "14教学三处",
               "15专项组"]
CATEGORIES = ["A标准建设", "B教学诊改", "C质量提升", "D提质培优", "E基地建设", "F省重复核"]
# No scan-only keyword (证书, 通知, 文件 …) in any generated name: no folder is a scan-only context.
TOPICS = ["教研活动", "技能大赛", "校企合作", "专业建设", "课程改革", "师资培训", "实训基地建设", "质量年报",
          "招生宣传", "安全演练", "团日活动", "运动会", "家长会", "毕业典礼", "教学诊改", "示范校创建"]
ACTIVITIES = ["活动", "会议", "培训", "比赛", "参观", "合影", "现场"]
DOC_WORDS = ["会议纪要", "工作方案", "工作总结", "实施细则", "申报书", "自评报告", "汇报材料"]
PLACES = ["学校报告厅", "实训楼三楼", "图书馆多功能厅", "行政楼会议室", "体育馆", "合作企业车间"]
PEOPLE = ["全体教研室教师", "校领导及各处室负责人", "2020级学生代表", "企业专家三名", "各系部主任"]
RESULTS = ["形成会议纪要一份", "获得省级二等奖", "完成阶段性目标", "评价良好", "签订合作协议"]
PHONES = [("HUAWEI", "ELS-AN00"), ("Xiaomi", "M2011K2C"), ("Apple", "iPhone 12"), ("OPPO", "PDEM10"),
          ("vivo", "V2031A")]
PHRASES = ["根据学校年度工作安排", "本次活动由相关处室组织实施", "参加人员认真学习了有关文件精神",
           "会议讨论了下一阶段的重点任务",
           "各项工作按计划有序推进", "存在的问题及改进措施如下", "请各部门按要求做好归档工作", "经研究决定"]

JPEG_MAX = 30 * 1024


# == generation ==============================================================================
@dataclass
class TaskSpec:
    index: int
    folder: str  # relative path of the task folder
    files: int


def plan(total: int, per_folder: int) -> list[TaskSpec]:
    """Task folders spread round-robin over the 90 department/category folders."""
    pairs = [(d, c) for d in DEPARTMENTS for c in CATEGORIES]
    count = math.ceil(total / per_folder)
    specs = []
    for t in range(count):
        d, c = pairs[t % len(pairs)]
        rng = random.Random(f"dangan-bench-task-{t}")
        name = f"{rng.randrange(2019, 2025)}年{rng.choice(TOPICS)}{t // len(pairs) + 1:02d}"
        files = min(per_folder, total - t * per_folder)
        specs.append(TaskSpec(t, f"{d}/{c}/{name}", files))
    return specs


def _jpeg(rng: random.Random, when: datetime | None, phone: tuple[str, str] | None) -> bytes:
    from PIL import Image, ImageDraw

    w = rng.choice([120, 160, 200, 240, 320, 400, 480, 560, 640])
    h = int(w * rng.choice([0.75, 0.75, 1.333, 0.5625, 1.0]))
    im = Image.linear_gradient("L").resize((w, h)).rotate(rng.choice([0, 90, 180, 270]), expand=False)
    im = Image.blend(Image.new("RGB", (w, h), _colour(rng)), im.convert("RGB"), rng.random() * 0.6)
    draw = ImageDraw.Draw(im)
    for _ in range(rng.randrange(4, 16)):
        x, y = rng.randrange(w), rng.randrange(h)
        box = [x, y, x + rng.randrange(8, w // 2 + 9), y + rng.randrange(8, h // 2 + 9)]
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=_colour(rng))
    noise = Image.effect_noise((w, h), rng.uniform(10, 60)).convert("RGB")
    im = Image.blend(im, noise, rng.uniform(0.02, 0.12))
    exif = Image.Exif()
    if phone is not None and when is not None:
        stamp = when.strftime("%Y:%m:%d %H:%M:%S")
        exif[0x010F], exif[0x0110], exif[0x0132] = phone[0], phone[1], stamp
        ifd = exif.get_ifd(0x8769)
        ifd[0x9003] = stamp
        ifd[0x829A] = (1, rng.choice([50, 100, 125, 250]))  # ExposureTime
        ifd[0x920A] = (rng.choice([26, 47, 55]), 10)  # FocalLength
    quality = rng.choice([60, 70, 75, 80, 85, 90])
    while True:
        out = io.BytesIO()
        im.save(out, "JPEG", quality=quality, exif=exif, dpi=(72, 72))
        if out.tell() <= JPEG_MAX or quality <= 30:
            return out.getvalue()
        quality -= 10


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return rng.randrange(256), rng.randrange(256), rng.randrange(256)


def _pdf(lines: list[str], pages: int) -> bytes:
    """A minimal valid born-digital PDF: Helvetica text on A4 pages, correct xref."""
    font = 3 + 2 * pages
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            ("<< /Type /Pages /Kids [%s] /Count %d >>" % (" ".join(f"{3 + 2 * i} 0 R" for i in range(pages)),
                                                         pages)).encode()]
    for p in range(pages):
        objs.append((f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 {font} 0 R"
                     f" >> >> /Contents {4 + 2 * p} 0 R >>").encode())
        body = ["BT /F1 11 Tf 14 TL 56 800 Td"]
        body += ["(" + s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '"
                 for s in lines[p::pages]]
        body.append("ET")
        stream = "\n".join(body).encode("latin-1")
        objs.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def _pdf_for(rng: random.Random, uid: str) -> bytes:
    n = rng.randrange(5, 160)
    words = ["meeting", "plan", "summary", "teaching", "quality", "training", "base", "review", "item",
             "school", "department", "result", "budget", "schedule"]
    lines = [f"{uid} line {i}: " + " ".join(rng.choice(words) for _ in range(rng.randrange(3, 12)))
             for i in range(n)]
    return _pdf(lines, pages=1 + n // 45)


def _txt(rng: random.Random, uid: str) -> bytes:
    parts = [f"记录编号 {uid}"]
    for _ in range(rng.randrange(3, 120)):
        parts.append(rng.choice(PHRASES) + f"（{rng.randrange(1, 10**6)}）。")
    return "\n".join(parts).encode("utf-8")


def _docx(rng: random.Random, title: str, when: date, complete: bool) -> bytes:
    from docx import Document

    doc = Document()
    doc.add_heading(f"{title}说明", 1)
    doc.add_paragraph(f"时间：{when:%Y年%m月%d日}")
    if complete:
        doc.add_paragraph(f"地点：{rng.choice(PLACES)}")
    doc.add_paragraph(f"参加人员：{rng.choice(PEOPLE)}")
    doc.add_paragraph("内容：" + "".join(rng.choice(PHRASES) + "，" for _ in range(rng.randrange(2, 12))))
    if complete:
        doc.add_paragraph(f"成果：{rng.choice(RESULTS)}（编号 {rng.randrange(10**9)}）")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def make_task(args: tuple[str, TaskSpec]) -> dict[str, int]:
    """Write one task folder; returns counts by kind and bytes written."""
    root, spec = args
    rng = random.Random(f"dangan-bench-files-{spec.index}")
    folder = Path(root) / spec.folder
    folder.mkdir(parents=True, exist_ok=True)
    title = spec.folder.rsplit("/", 1)[1]
    year = int(title[:4])
    day = date(year, 1, 1) + timedelta(days=rng.randrange(365))
    base = datetime(day.year, day.month, day.day, 8, tzinfo=timezone(timedelta(hours=8)))
    stats = {"jpg": 0, "pdf": 0, "txt": 0, "docx": 0, "bytes": 0, "planted_no_description": 0,
             "planted_incomplete_description": 0, "planted_undated_photo": 0, "planted_duplicate": 0}
    uid = f"T{spec.index:05d}"
    written: list[tuple[str, bytes]] = []
    photo_task = rng.random() < 0.45

    def photo(i: int) -> tuple[str, bytes]:
        when = base + timedelta(days=rng.randrange(3), seconds=rng.randrange(10 * 3600))
        phone = rng.choice(PHONES) if rng.random() < 0.7 else None
        data = _jpeg(rng, when, phone)
        if rng.random() < 0.005:
            stats["planted_undated_photo"] += 1
            return f"IMG_{rng.randrange(10**4):04d}_{i}.jpg", data
        return f"{when:%Y%m%d}{rng.choice(ACTIVITIES)}{i}.jpg", data

    if photo_task:
        roll = rng.random()
        has_doc = roll >= 0.08
        if has_doc and spec.files > 1:
            complete = roll >= 0.16
            stats["planted_incomplete_description"] += not complete
            written.append((f"{title}活动说明.docx", _docx(rng, title, day, complete)))
        else:
            stats["planted_no_description"] += 1
        while len(written) < spec.files:
            written.append(photo(len(written)))
    else:
        duplicate = rng.random() < 0.05
        while len(written) < spec.files - duplicate:
            i = len(written)
            r = rng.random()
            if r < 0.45:
                written.append((f"{rng.choice(DOC_WORDS)}{i}.pdf", _pdf_for(rng, f"{uid}-{i}")))
            elif r < 0.80:
                written.append((f"工作记录{i}.txt", _txt(rng, f"{uid}-{i}")))
            elif r < 0.95:
                written.append(photo(i))
            else:
                written.append((f"{rng.choice(TOPICS)}说明{i}.docx", _docx(rng, title, day, True)))
        if duplicate:
            name, data = written[rng.randrange(len(written))]
            stem, ext = name.rsplit(".", 1)
            written.append((f"{stem} - 副本.{ext}", data))
            stats["planted_duplicate"] += 1
    for i, (name, data) in enumerate(written):
        path = folder / name
        path.write_bytes(data)
        mtime = int((base.timestamp() + 86400 * 2 + i * 37) * 1e9)
        os.utime(path, ns=(mtime, mtime))
        stats[name.rsplit(".", 1)[1]] += 1
        stats["bytes"] += len(data)
    return stats


def generate(tree: Path, total: int, per_folder: int, workers: int) -> dict:
    """The cached tree under ``tree``; regenerated when missing, partial or of another version."""
    manifest = tree / "manifest.json"
    wanted = {"generator": GENERATOR_VERSION, "files": total, "per_folder": per_folder}
    if manifest.is_file():
        known = json.loads(manifest.read_text())
        if {k: known.get(k) for k in wanted} == wanted:
            print(f"[gen] reusing {tree} ({known['files']} files, {known['bytes'] / 2**20:.0f} MiB)", flush=True)
            return known
    if tree.exists():
        shutil.rmtree(tree)
    archive = tree / "archive"
    archive.mkdir(parents=True)
    specs = plan(total, per_folder)
    print(f"[gen] writing {total} files in {len(specs)} task folders to {archive} with {workers} processes",
          flush=True)
    started = time.perf_counter()
    totals: dict[str, int] = {}
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for done, stats in enumerate(pool.imap_unordered(make_task, [(str(archive), s) for s in specs], 4), 1):
            for k, v in stats.items():
                totals[k] = totals.get(k, 0) + v
            if done % 50 == 0 or done == len(specs):
                print(f"[gen] {done}/{len(specs)} folders, {totals['bytes'] / 2**20:.0f} MiB,"
                      f" {time.perf_counter() - started:.0f} s", flush=True)
    counted = sum(totals[k] for k in ("jpg", "pdf", "txt", "docx"))
    assert counted == total, (counted, total)
    info = {**wanted, **totals, "task_folders": len(specs), "generated_at": stamp(),
            "generation_seconds": round(time.perf_counter() - started, 1)}
    manifest.write_text(json.dumps(info, ensure_ascii=False, indent=2) + "\n")
    return info


# == measuring ===============================================================================
@dataclass
class Run:
    kind: str
    round: int
    seconds: float
    exit_code: int
    maxrss_kib: int  # wait4: the child's peak (and of the descendants it reaped)
    cpu_seconds: float  # wait4: user + sys of the child and of the descendants it reaped
    tree_rss_kib: int = 0  # sampled peak of the summed RSS of the child and all its descendants
    tree_pss_kib: int = 0
    tree_procs: int = 0
    tree_cpu_seconds: float = 0.0  # sampled: a lower bound (each process's last interval is missed)
    extra: dict = field(default_factory=dict)


class TreeSampler(threading.Thread):
    """Peak summed RSS/PSS of a process and its descendants, sampled from /proc."""

    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.rss = self.pss = self.procs = 0
        self.cpu_ticks: dict[int, int] = {}  # last seen utime + stime of every process of the tree
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            rss = pss = 0
            pids = descendants(self.pid)
            for pid in pids:
                try:
                    with open(f"/proc/{pid}/stat", "rb") as f:
                        fields = f.read().rsplit(b")", 1)[1].split()
                    self.cpu_ticks[pid] = int(fields[11]) + int(fields[12])
                except (OSError, ValueError, IndexError):
                    pass
                try:
                    with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
                        for line in f:
                            if line.startswith(b"Rss:"):
                                rss += int(line.split()[1])
                            elif line.startswith(b"Pss:"):
                                pss += int(line.split()[1])
                except (OSError, ValueError, IndexError):
                    pass
            self.rss, self.pss, self.procs = max(self.rss, rss), max(self.pss, pss), max(self.procs, len(pids))
            self.stopped.wait(self.interval)


def timed(kind: str, rnd: int, argv: list[str], stdout, sample: float) -> Run:
    errors = tempfile.TemporaryFile()
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=stdout, stderr=errors)
    sampler = None
    if sample > 0:
        sampler = TreeSampler(child.pid, sample)
        sampler.start()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    errors.seek(0)
    stderr = errors.read().decode("utf-8", "replace")
    errors.close()
    run = Run(kind, rnd, seconds, child.returncode, usage.ru_maxrss, usage.ru_utime + usage.ru_stime)
    if sampler is not None:
        sampler.stopped.set()
        sampler.join()
        run.tree_rss_kib, run.tree_pss_kib, run.tree_procs = sampler.rss, sampler.pss, sampler.procs
        run.tree_cpu_seconds = sum(sampler.cpu_ticks.values()) / os.sysconf("SC_CLK_TCK")
    if stderr.strip():
        run.extra["stderr"] = stderr.strip()[-2000:]
    return run


def fresh_state(dangan: str, work: Path, archive: Path) -> Path:
    """A new config, state dir (empty catalog) and mirror for the archive; returns the config path."""
    run = work / "run"
    if run.exists():
        shutil.rmtree(run)
    run.mkdir(parents=True)
    config = run / "config.yaml"
    subprocess.run([dangan, "init", "--config", str(config), "--archive-root", str(archive),
                    "--mirror-root", str(run / "mirror"), "--state-dir", str(run / "state"), "--force"],
                   check=True, stdout=subprocess.DEVNULL)
    return config


def check_run(kind: str, rnd: int, dangan: str, config: Path, out: Path, sample: float) -> Run:
    with open(out, "wb") as f:
        run = timed(kind, rnd, [dangan, "check", "--config", str(config), "--format", "json"], f, sample)
    if run.exit_code not in (0, 1):
        raise SystemExit(f"dangan check ({kind}, round {rnd}) failed with exit {run.exit_code}:"
                         f" {run.extra.get('stderr', '')}")
    result = json.loads(out.read_text(encoding="utf-8"))
    run.extra.update({k: result[k] for k in ("files_checked", "files_read", "errors", "warnings")})
    run.extra["rules"] = _count_rules(result["violations"])
    run.extra["skipped"] = len(result["skipped"])
    return run


def _count_rules(violations: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in violations:
        counts[v["rule"]] = counts.get(v["rule"], 0) + 1
    return dict(sorted(counts.items()))


def warm_cache(archive: Path) -> float:
    """Read every file once, so that every round sees the same (warm) page cache."""
    started = time.perf_counter()
    subprocess.run(f"find {q(archive)} -type f -print0 | xargs -0 cat > /dev/null", shell=True, check=True)
    return time.perf_counter() - started


# == reporting ===============================================================================
def summarize(runs: list[Run], files: int) -> list[dict]:
    by_kind: dict[str, list[Run]] = {}
    for r in runs:
        by_kind.setdefault(r.kind, []).append(r)
    anchor = statistics.median(r.seconds for r in by_kind["find"])
    anchor_by_round = {r.round: r.seconds for r in by_kind["find"]}
    rows = []
    for kind in ("find", "first", "second"):
        rs = by_kind.get(kind, [])
        if not rs:
            continue
        secs = [r.seconds for r in rs]
        med = statistics.median(secs)
        per_round = [r.seconds / anchor_by_round[r.round] for r in rs if r.round in anchor_by_round]
        rows.append({
            "kind": kind, "n": len(rs), "median": med, "min": min(secs), "max": max(secs),
            "files_per_s": files / med, "ratio": med / anchor, "ratio_per_round": per_round,
            "maxrss_mib": max(r.maxrss_kib for r in rs) / 1024,
            "tree_rss_mib": max(r.tree_rss_kib for r in rs) / 1024,
            "tree_pss_mib": max(r.tree_pss_kib for r in rs) / 1024,
            "tree_procs": max(r.tree_procs for r in rs),
            "cpu_median": statistics.median(r.cpu_seconds for r in rs),
            "tree_cpu_median": statistics.median(r.tree_cpu_seconds for r in rs),
        })
    return rows


LABELS = {"find": "`find -printf` (anchor)", "first": "first `dangan check` (empty catalog)",
          "second": "second `dangan check` (warm catalog)"}


def table(rows: list[dict]) -> str:
    lines = ["| run | median s (min–max, n) | files/s | ÷ find | peak RSS, main process (wait4) | peak RSS / PSS,"
             " process tree (procs) | CPU s, tree (sampled) |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        ratios = ", ".join(f"{x:.1f}" for x in r["ratio_per_round"])
        # wait4's peak of an exec'd child includes the forked Python before exec: meaningless for find.
        own = "–" if r["kind"] == "find" else f"{r['maxrss_mib']:.0f} MiB"
        cpu = f"{max(r['tree_cpu_median'], r['cpu_median']):.1f}"
        lines.append(
            f"| {LABELS[r['kind']]} | {r['median']:.2f} ({r['min']:.2f}–{r['max']:.2f}, {r['n']}) |"
            f" {r['files_per_s']:,.0f} | {r['ratio']:.1f}× (per round: {ratios}) | {own} |"
            f" {r['tree_rss_mib']:.0f} / {r['tree_pss_mib']:.0f} MiB ({r['tree_procs']}) | {cpu} |")
    return "\n".join(lines)


# == main ====================================================================================
def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, "/tmp/dangan-bench-check", "work dir: cached trees, state, raw results",
                          rev_default=None, working_tree=False)
    parser.add_argument("--files", type=int, default=50_000, help="files in the tree (default: %(default)s)")
    parser.add_argument("--per-folder", type=int, default=100, help="files per task folder (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2,000 files, 1 round")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="generator processes")
    parser.add_argument("--dangan", default=None, help="the dangan command (default: next to this Python)")
    parser.add_argument("--sample", type=float, default=0.2,
                        help="seconds between /proc samples of the process tree's memory (0: off)")
    parser.add_argument("--no-warm", action="store_true", help="skip reading the tree once before the rounds")
    parser.add_argument("--generate-only", action="store_true", help="make (or reuse) the tree and stop")
    args = parser.parse_args(argv)
    if args.quick:
        args.files, args.repeat = 2_000, 1

    dangan = args.dangan or str(Path(sys.executable).parent / "dangan")
    if not Path(dangan).exists():
        dangan = shutil.which("dangan") or dangan
    work: Path = args.dir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    tree = work / f"tree-{args.files}-{args.per_folder}"
    info = generate(tree, args.files, args.per_folder, args.workers)
    archive = tree / "archive"
    if args.generate_only:
        return 0

    repo = Path(__file__).resolve().parent.parent
    pinned = pin_sources(repo, args.rev, work) if args.rev else None
    if pinned and not args.dangan:
        dangan = str(launcher(work, pinned))  # the revision's own entry point, not the installed one
    facts = {"date": stamp(), "nproc": os.cpu_count(), "kernel": platform.release(),
             "python": platform.python_version(),
             "git": {"commit": pinned[:7], "dirty": [], "pinned": True} if pinned else git_facts(repo),
             "source": source_digest(),
             "tree": info, "argv": sys.argv}
    print(f"[run] {facts['date']} nproc={facts['nproc']} kernel={facts['kernel']} python={facts['python']}"
          f" commit={facts['git']['commit']}{' (pinned: --rev)' if pinned else ''} source={facts['source']}"
          + (f" (uncommitted changes: {len(facts['git']['dirty'])})" if facts["git"]["dirty"] else ""),
          flush=True)
    if not args.no_warm:
        print(f"[run] warming the page cache: {warm_cache(archive):.1f} s", flush=True)

    runs: list[Run] = []
    find_cmd = ["find", str(archive), "-type", "f", "-printf", "%s %T@ %p\n"]
    for rnd in range(1, args.repeat + 1):
        run = timed("find", rnd, find_cmd, subprocess.DEVNULL, args.sample)
        runs.append(run)
        print(f"[round {rnd}] find   {run.seconds:7.2f} s", flush=True)

        config = fresh_state(dangan, work, archive)
        run = check_run("first", rnd, dangan, config, work / "run" / "first.json", args.sample)
        catalog = work / "run" / "state"
        run.extra["catalog_mib"] = sum(p.stat().st_size for p in catalog.glob("catalog.sqlite*")) / 2**20
        runs.append(run)
        print(f"[round {rnd}] first  {run.seconds:7.2f} s  read {run.extra['files_read']}"
              f"/{run.extra['files_checked']}  errors {run.extra['errors']} warnings {run.extra['warnings']}"
              f"  catalog {run.extra['catalog_mib']:.1f} MiB  peak tree RSS {run.tree_rss_kib / 1024:.0f} MiB"
              f"  cpu {run.cpu_seconds:.1f} s", flush=True)

        run = check_run("second", rnd, dangan, config, work / "run" / "second.json", args.sample)
        runs.append(run)
        print(f"[round {rnd}] second {run.seconds:7.2f} s  read {run.extra['files_read']}"
              f"/{run.extra['files_checked']}  errors {run.extra['errors']} warnings {run.extra['warnings']}",
              flush=True)

    problems = []
    for r in runs:
        if r.kind == "first" and (r.extra["files_checked"], r.extra["files_read"]) != (args.files, args.files):
            problems.append(f"round {r.round} first check: checked {r.extra['files_checked']}, read"
                            f" {r.extra['files_read']}, expected {args.files} and {args.files}")
        if r.kind == "second" and (r.extra["files_checked"], r.extra["files_read"]) != (args.files, 0):
            problems.append(f"round {r.round} second check: checked {r.extra['files_checked']}, read"
                            f" {r.extra['files_read']}, expected {args.files} and 0")
    source_after = source_digest()
    if source_after != facts["source"]:
        problems.append(f"the dangan sources changed during the run ({facts['source']} -> {source_after})")

    rows = summarize(runs, args.files)
    first = next(r for r in runs if r.kind == "first")
    mix = ", ".join(f"{info[k]:,} .{k}" for k in ("jpg", "pdf", "txt", "docx"))
    print()
    print(f"{args.files:,} files ({mix}; {info['bytes'] / 2**20:.0f} MiB) in {info['task_folders']} task folders;"
          f" {args.repeat} interleaved round(s); nproc {facts['nproc']}; {facts['date']};"
          f" dangan {facts['git']['commit']} (source {facts['source']})")
    print()
    print(table(rows))
    print()
    print(f"findings of the first check: {first.extra['errors']} errors, {first.extra['warnings']} warnings:"
          f" {first.extra['rules']}; catalog {first.extra['catalog_mib']:.1f} MiB")
    planted = {k[len('planted_'):]: v for k, v in info.items() if k.startswith("planted_")}
    print(f"planted problems: {planted}")
    for p in problems:
        print(f"WARNING: {p}")

    out = work / f"results-{args.files}-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps({"facts": facts, "rows": rows, "runs": [r.__dict__ for r in runs],
                               "problems": problems}, ensure_ascii=False, indent=2) + "\n")
    print(f"raw results: {out}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
