"""How a check's findings are shown: Chinese text grouped by department, or JSON for scripts."""

from __future__ import annotations

import base64
import json
from collections import Counter, defaultdict

from dangan.config.messages import t

from dangan.rules.check import CheckResult
from dangan.store.names import is_utf8, printable, show, shown
from dangan.rules.rulebook import ERROR, Violation
from dangan.store.tree import Skipped


def _path_fields(path: bytes) -> dict[str, str]:
    fields = {"path": show(path)}
    if not is_utf8(path):
        # The readable form is lossy for non-UTF-8 names; scripts get the exact bytes too.
        fields["path_base64"] = base64.b64encode(path).decode("ascii")
    return fields


def to_json(result: CheckResult) -> str:
    """``{"files_checked": N, "violations": [{path, rule, severity, message, hint}]}`` plus extras."""
    violations = [
        {**_path_fields(v.path), "rule": v.rule, "severity": v.severity, "message": v.message, "hint": v.hint,
         "first_seen": result.first_seen.get((v.path, v.rule))}
        for v in result.violations
    ]
    skipped = [{**_path_fields(s.path), "reason": s.reason, "detail": s.detail} for s in result.skipped]
    document = {
        "files_checked": result.files_checked,
        "violations": violations,
        "errors": result.errors,
        "warnings": result.warnings,
        "files_read": result.files_read,
        "skipped": skipped,
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def _department(v: Violation) -> str:
    head, sep, _ = v.path.partition(b"/")
    if sep or v.rule == "structure.department":  # an unknown top-level folder heads its own group
        return shown(head)
    return t("check.root_department")


def to_text(result: CheckResult) -> str:
    """Counts first, then every finding grouped by department, each with its fix."""
    lines = [t("check.summary", files=result.files_checked, errors=result.errors, warnings=result.warnings)]
    groups: dict[str, list[Violation]] = defaultdict(list)
    for v in result.violations:
        groups[_department(v)].append(v)
    if not groups:
        lines.append(t("check.all_clean"))
    else:
        counts = {d: Counter(v.severity for v in vs) for d, vs in groups.items()}
        lines.append(t("check.per_department"))
        for department in sorted(groups):
            c = counts[department]
            lines.append(t("check.department_line", department=department, errors=c[ERROR],
                           warnings=c["warning"]))
        for department in sorted(groups):
            c = counts[department]
            lines += ["", t("check.department_header", department=department, errors=c[ERROR],
                            warnings=c["warning"])]
            for v in groups[department]:
                # names inside the texts are escaped: a newline in a name must not forge a line
                lines.append(f"  [{t('severity.' + v.severity)}] {v.rule}  {printable(v.message)}")
                lines.append(f"      {t('check.hint')}{printable(v.hint)}")
    if result.skipped:
        lines += ["", t("check.skipped_header", count=len(result.skipped))]
        lines += [f"  {shown(s.path)}：{printable(_skip_reason(s))}" for s in result.skipped]
    return "\n".join(lines)


def _skip_reason(item: Skipped) -> str:
    text = t(f"skip.{item.reason}", detail=item.detail)
    return f"{text} → {item.detail}" if item.reason == "symlink" and item.detail else text
