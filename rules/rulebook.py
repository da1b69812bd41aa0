"""The school's filing rules, as pure functions of names, folder listings and content facts.

A rule never reads a file (the inspector did that once, and the catalog keeps the facts), so
re-evaluating every rule over an unchanged archive costs no I/O, and a config change (a new
department, a stricter dpi) takes effect on the next check without re-reading anything.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable

from dangan.config.messages import has, t
from dangan.config.rule_ids import RULE_IDS
from dangan.config.schema import Config

from dangan.rules.inspector import IMAGE_KINDS, OLE_KINDS, ZIP_KINDS
from dangan.store.names import is_utf8, legacy_decode, show, split_ext
from dangan.store.tree import Folder

ERROR, WARNING = "error", "warning"

# Default severity of each rule; the config may override it per rule id.
DEFAULT_SEVERITY: dict[str, str] = {
    "structure.department": ERROR,
    "structure.category": ERROR,
    "structure.depth": ERROR,
    "naming.date": ERROR,
    "naming.encoding": ERROR,
    "naming.too-long": WARNING,
    "format.not-allowed": ERROR,
    "format.mismatch": ERROR,
    "scan.camera": ERROR,
    "scan.resolution": ERROR,
    "readable.corrupt": ERROR,
    "readable.encrypted": ERROR,
    "folder.no-description": ERROR,
    "duplicate": WARNING,
}
assert tuple(DEFAULT_SEVERITY) == RULE_IDS, "every stable rule id has exactly one default severity"

# A finding that is milder than its rule: a description exists but misses some fields.
VARIANT_SEVERITY = {("folder.no-description", "fields"): WARNING,
                    # only a phone maker's name, no exposure, lens or GPS: say so, do not refuse
                    ("scan.camera", "weak"): WARNING,
                    # a codec this build lacks: the file could not be verified here, which is not damage
                    ("readable.corrupt", "unverified"): WARNING}

# Content types each extension may hold (None: no magic number to check against).
_VIDEO_FAMILY = {"mp4", "mov", "m4v", "3gp"}
ACCEPTED_KINDS: dict[str, set[str | None]] = {
    "pdf": {"pdf"},
    "ofd": {"zip"},
    "docx": ZIP_KINDS | OLE_KINDS, "xlsx": ZIP_KINDS | OLE_KINDS, "pptx": ZIP_KINDS | OLE_KINDS,
    "doc": OLE_KINDS | {"rtf"}, "xls": OLE_KINDS | {"xls"}, "ppt": OLE_KINDS,
    "wps": OLE_KINDS | ZIP_KINDS, "et": OLE_KINDS | ZIP_KINDS, "dps": OLE_KINDS | ZIP_KINDS,
    "jpg": {"jpg"}, "jpeg": {"jpg"}, "png": {"png"}, "tif": {"tif"}, "tiff": {"tif"},
    "gif": {"gif"}, "bmp": {"bmp"}, "webp": {"webp"}, "heic": {"heic"},
    "mp3": {"mp3"}, "wav": {"wav"}, "m4a": {"m4a", "mp4"}, "flac": {"flac"}, "amr": {"amr"},
    "mp4": _VIDEO_FAMILY, "mov": _VIDEO_FAMILY, "m4v": _VIDEO_FAMILY, "3gp": _VIDEO_FAMILY,
    "avi": {"avi"}, "mkv": {"mkv", "webm"}, "flv": {"flv"}, "wmv": {"wmv", "asf"}, "mpg": {"mpg"}, "mpeg": {"mpg"},
    "txt": {None},
}
PROPOSED_EXTENSION = {"ole": "doc", "zip": "zip", "tif": "tif"}
OOXML = {"docx": "doc", "xlsx": "xls", "pptx": "ppt"}  # and the legacy format each replaced
OLE_MAIN = ("doc", "xls", "ppt")  # legacy formats told apart by their main stream
OLE_SAME = {"wps": "doc", "et": "xls", "dps": "ppt"}  # WPS Office's names for the same containers
# The family a damaged file's structure names, as the kinds an extension accepts.
FAMILY_KINDS = {"ole": OLE_KINDS, "zip": ZIP_KINDS}
DATE_SEPARATORS = " _-.，,、"


@dataclass(frozen=True, slots=True)
class Violation:
    """One finding: a path (relative, bytes), the rule broken, and the arguments of its text."""

    path: bytes
    rule: str
    severity: str
    args: dict[str, Any] = field(default_factory=dict)

    def _text(self, part: str) -> str:
        variant = self.args.get("_m" if part == "message" else "_h")
        base = f"rule.{self.rule}.{part}"
        key = f"{base}.{variant}" if variant and has(f"{base}.{variant}") else base
        args = {k: v for k, v in self.args.items() if not k.startswith("_")}
        return t(key, path=show(self.path), **{k: _worded(v) for k, v in args.items()})

    @property
    def message(self) -> str:
        return self._text("message")

    @property
    def hint(self) -> str:
        return self._text("hint")

    @property
    def detail(self) -> str:
        """The arguments as stored in the catalog."""
        return json.dumps(self.args, ensure_ascii=False, sort_keys=True)


def _worded(value: Any) -> Any:
    """An argument that names damage (``damage.<code>[:arg…]``) in the words of the current
    language: the catalog keeps the code, so a finding reads right in any language."""
    if not (isinstance(value, str) and value.startswith("damage.")):
        return value
    code, _, rest = value.partition(":")
    if has(code):
        return t(code, arg=rest, args=rest.split(":"))
    return t("damage.decoder", arg=value.removeprefix("damage."))


def rule_title(rule: str, config: Config) -> str:
    limit = config.rules.name_max_bytes
    return t(f"rule.{rule}.title", dpi=config.rules.scan_min_dpi, limit=limit, chars=limit // 3)


class Rulebook:
    """The rules as configured, evaluated against one archive on one day."""

    def __init__(self, config: Config, today: date | None = None) -> None:
        self.config = config
        self.rules = config.rules
        self.tz = config.tz
        self.today = today or datetime.now(self.tz).date()
        self.enabled = [r for r in RULE_IDS if r not in set(self.rules.disabled)]
        self._enabled = set(self.enabled)
        self.departments = set(config.departments)
        self.categories = set(config.categories)
        self.photo = set(self.rules.photo_extensions)
        self.video = set(self.rules.video_extensions)
        self.media = self.photo | self.video | set(self.rules.audio_extensions)
        self.allowed = set(self.rules.allowed_extensions)
        self.descriptions = set(self.rules.description_extensions)
        words = b"|".join(re.escape(w.encode("utf-8")) for w in self.rules.scan_only_keywords)
        self._scan_word = re.compile(words).search if words else (lambda _: None)

    # -- helpers ----------------------------------------------------------------------------
    def _found(self, out: list[Violation], path: bytes, rule: str, variant: str | None = None, **args: Any) -> None:
        if rule not in self._enabled:
            return
        severity = self.rules.severity.get(rule) or VARIANT_SEVERITY.get((rule, variant)) or DEFAULT_SEVERITY[rule]
        if variant:
            args["_m"] = variant
            args.setdefault("_h", variant)
        out.append(Violation(path, rule, severity, args))

    def is_scan_only(self, relpath: bytes) -> bool:
        """A scan-only context: the file's or a folder's name holds a keyword such as 证书."""
        return self._scan_word(relpath) is not None

    def _name_rules(self, out: list[Violation], path: bytes, name: bytes) -> None:
        if not is_utf8(name):
            decoded = legacy_decode(name)
            if decoded is None:
                self._found(out, path, "naming.encoding", _h="unknown")
            else:
                self._found(out, path, "naming.encoding", proposal=decoded)
        limit = self.rules.name_max_bytes
        if len(name) > limit:
            self._found(out, path, "naming.too-long", length=len(name), limit=limit, chars=limit // 3)

    # -- folders ----------------------------------------------------------------------------
    def for_folder(self, folder: Folder, facts_of: Callable[[bytes], dict[str, Any]]) -> list[Violation]:
        """Rules on a folder's own structure: its subfolders' names and what it holds."""
        out: list[Violation] = []
        for name in folder.dirs:
            path = folder.child(name)
            self._name_rules(out, path, name)
            text = show(name)
            if folder.depth == 0 and text not in self.departments:
                example = _closest(text, self.config.departments)
                self._found(out, path, "structure.department", name=text, example=example)
            elif folder.depth == 1 and text not in self.categories:
                example = _closest(text, self.config.categories)
                self._found(out, path, "structure.category", name=text, example=example)
        if folder.depth >= 3 and folder.files:
            self._description_rule(out, folder, facts_of)
        return out

    def _description_rule(self, out: list[Violation], folder: Folder, facts_of: Callable[[bytes], dict]) -> None:
        visual = self.photo | self.video
        media, docs = [], []
        for name, _ in folder.files:
            ext = split_ext(name)[1]
            if ext in visual and self.is_scan_only(folder.child(name)):
                return  # scans of certificates or documents are records in their own right
            if ext in visual:
                media.append(name)
            elif ext in self.descriptions:
                docs.append(name)
            else:
                return  # the folder holds other records: it documents itself
        if not media:
            return
        if not docs:
            self._found(out, folder.path, "folder.no-description", count=len(media))
            return
        texts = [facts_of(folder.child(d)).get("text") for d in docs]
        if any(text is None for text in texts):
            return  # a .doc or .wps we cannot read: give it the benefit of the doubt
        text = "\n".join(texts)
        missing = [f.split("/")[0] for f in self.rules.description_fields
                   if not any(word and word in text for word in f.split("/"))]
        if missing:
            self._found(out, folder.path, "folder.no-description", "fields", fields="、".join(missing))

    # -- files ------------------------------------------------------------------------------
    def for_file(self, path: bytes, st: os.stat_result, facts: dict[str, Any]) -> list[Violation]:
        """Every per-file rule for the record at ``path`` with content ``facts``."""
        out: list[Violation] = []
        parent, _, name = path.rpartition(b"/")
        depth = parent.count(b"/") + 1 if parent else 0
        if depth < 3:
            if depth == 0:
                self._found(out, path, "structure.depth", "root", level=depth)
            else:
                self._found(out, path, "structure.depth", level=depth)
        self._name_rules(out, path, name)
        stem, ext = split_ext(name)
        kind = facts.get("kind")
        if ext not in self.allowed:
            self._found(out, path, "format.not-allowed", ext=ext or "∅",
                        allowed=", ".join(self.rules.allowed_extensions))
        self._format_rules(out, path, ext, kind, facts)
        scan_only = self.is_scan_only(path)
        if ext in self.media and not scan_only:
            self._date_rule(out, path, stem, ext, st, facts)
        if scan_only and (ext in self.photo or kind in IMAGE_KINDS or (kind == "pdf" and facts.get("scan_pages"))):
            self._scan_rules(out, path, facts)
        if facts.get("corrupt"):
            self._found(out, path, "readable.corrupt", detail="damage." + str(facts["corrupt"]))
        elif OLE_SAME.get(ext, ext) in OLE_MAIN and facts.get("ole") == "other":
            self._found(out, path, "readable.corrupt", detail="damage.ole_main")
        elif facts.get("unverified"):
            self._found(out, path, "readable.corrupt", "unverified", detail=facts["unverified"])
        if facts.get("encrypted"):
            self._found(out, path, "readable.encrypted", "restricted" if facts["encrypted"] == "restricted" else None)
        return out

    def _format_rules(self, out: list[Violation], path: bytes, ext: str, kind: str | None, facts: dict) -> None:
        """format.mismatch, knowing each format's variants: a damaged file whose structure still
        names the extension's family is corrupt (readable.corrupt says so), not mismatched."""
        accepted = ACCEPTED_KINDS.get(ext)
        if accepted is None or facts.get("corrupt") == "empty":
            return
        family = facts.get("family")
        if kind is None and family and (family in accepted or FAMILY_KINDS.get(family, set()) & accepted):
            return
        ole = facts.get("ole")
        if kind in OLE_KINDS and ext in OOXML and ole != "encrypted-package":
            # a legacy file renamed: only an encrypted OOXML package is an OLE container with this name
            self._found(out, path, "format.mismatch", ext=ext, actual=(ole if ole in OLE_MAIN else OOXML[ext]).upper(),
                        proposal=ole if ole in OLE_MAIN else OOXML[ext])
            return
        if kind in OLE_KINDS and ext in OLE_MAIN and ole in OLE_MAIN and ole != ext:
            self._found(out, path, "format.mismatch", ext=ext, actual=ole.upper(), proposal=ole)
            return
        if kind in ZIP_KINDS and ext in OOXML and facts.get("ooxml") != ext and not facts.get("corrupt"):
            # a zip, but not this Office format: another one renamed, or a container missing its main part
            found = facts.get("ooxml")
            self._found(out, path, "format.mismatch", ext=ext, actual=(found or "ZIP").upper(),
                        proposal=found or "zip")
            return
        if kind in accepted:
            return
        actual = kind.upper() if kind else t("rule.format.unknown_content")
        if kind:
            self._found(out, path, "format.mismatch", ext=ext, actual=actual,
                        proposal=PROPOSED_EXTENSION.get(kind, kind))
        else:
            self._found(out, path, "format.mismatch", ext=ext, actual=actual, _h="unknown")

    def _date_rule(self, out, path: bytes, stem: bytes, ext: str, st: os.stat_result, facts: dict) -> None:
        text = stem.decode("utf-8", "replace")
        match = re.match(r"(\d{8})(.*)$", text, re.S)
        taken = facts.get("taken")
        source = "exif" if taken and _valid_date(taken, self.today) else "mtime"
        if source == "mtime":
            taken = datetime.fromtimestamp(st.st_mtime_ns / 1e9, self.tz).strftime("%Y%m%d")
        if match is None:
            proposal = f"{taken}{text.lstrip(DATE_SEPARATORS)}.{ext}"
            self._found(out, path, "naming.date", "missing", _h=source, proposal=proposal)
            return
        digits, rest = match.groups()
        verdict = _date_verdict(digits, self.today)
        if verdict is not None:
            proposal = f"{taken}{rest}.{ext}"
            self._found(out, path, "naming.date", verdict, _h=source, date=digits, proposal=proposal)
        elif not rest.strip(DATE_SEPARATORS):
            self._found(out, path, "naming.date", "no_content", _h="content",
                        proposal=f"{digits}{t('rule.naming.date.example_content')}.{ext}")

    def _scan_rules(self, out: list[Violation], path: bytes, facts: dict) -> None:
        minimum = self.rules.scan_min_dpi
        if facts.get("camera"):
            self._found(out, path, "scan.camera", evidence=", ".join(facts["camera"]), dpi=minimum)
            return  # a photo has no meaningful scan resolution; the fix is the same: scan it
        if facts.get("camera_weak"):
            self._found(out, path, "scan.camera", "weak", evidence=", ".join(facts["camera_weak"]), dpi=minimum)
        dpi = facts.get("dpi")
        if dpi is None:
            self._found(out, path, "scan.resolution", "unknown", dpi=minimum, _h=None)
        elif dpi < minimum:
            self._found(out, path, "scan.resolution", found=dpi, dpi=minimum)

    # -- across files -----------------------------------------------------------------------
    def duplicates(self, groups: dict[str, list[bytes]], in_scope: Callable[[bytes], bool]) -> list[Violation]:
        """Every copy after the first (in path order) of content filed more than once."""
        out: list[Violation] = []
        for paths in groups.values():
            first, *others = paths
            for other in others:
                if in_scope(other):
                    self._found(out, other, "duplicate", other=show(first))
        return out


def _closest(text: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(text, choices, n=1, cutoff=0.0)
    return close[0] if close else (choices[0] if choices else "")


def _date_verdict(digits: str, today: date) -> str | None:
    """None for a real past date, else "invalid" or "future"."""
    try:
        value = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return "invalid"
    if value.year < 1900:
        return "invalid"
    return "future" if value > today else None


def _valid_date(digits: str, today: date) -> bool:
    return _date_verdict(digits, today) is None
