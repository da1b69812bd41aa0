"""Load a config file: YAML over the commented defaults, validated as a whole.

Every problem is reported at once, each with the file, the line, the key path and the bad value,
and unknown keys name the nearest valid key. Nothing here ever lets a traceback reach the user.
"""

from __future__ import annotations

import copy
import difflib
import os
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from dangan.config.errors import ConfigError
from dangan.config import words
from dangan.config.messages import t
from dangan.config.schema import Config

DEFAULT_CONFIG_PATH = Path("/etc/dangan/config.yaml")
ENV_VAR = "DANGAN_CONFIG"


def default_text() -> str:
    """The commented default config shipped with dangan (``config/default.yaml``)."""
    return resources.files("dangan.config").joinpath("default.yaml").read_text(encoding="utf-8")


def resolve_path(cli_value: str | os.PathLike[str] | None) -> Path:
    """``--config``, else ``$DANGAN_CONFIG``, else ``/etc/dangan/config.yaml``."""
    if cli_value:
        return Path(cli_value)
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else DEFAULT_CONFIG_PATH


def peek_language(path: Path) -> str | None:
    """The ``language`` key of a config, read without validation (for help text before loading)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - a broken file is reported properly by load()
        return None
    value = data.get("language") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def load(path: Path) -> Config:
    """Read and validate ``path``; raise :class:`ConfigError` listing every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(t("config.not_found", path=path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(t("config.unreadable", path=path, detail=words.reason(exc))) from None
    return parse(text, path)


def parse(text: str, path: Path, from_options: bool = False) -> Config:
    """Validate config ``text`` (from ``path``, named in messages). ``from_options``: the text is
    what `dangan init` is about to write from its options, so problems are the options' (no file
    exists yet to blame)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(_render(path, [_yaml_problem(exc)])) from None
    except yaml.YAMLError:  # e.g. a reader error on control characters
        raise ConfigError(_render(path, [t("config.yaml_syntax", line="?", column="?",
                                           problem=t("config.yaml.unreadable_char"))])) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(_render(path, [t("config.not_mapping")]))
    lines: dict[tuple, int] = {}
    duplicates: list[tuple[int, str]] = []
    _line_map(node, (), lines, duplicates)
    merged = _merge(yaml.safe_load(default_text()), data)
    problems = [(line, t("config.problem", where=f"{t('config.line', line=line)} {key}",
                         reason=t("config.duplicate_key")))
                for line, key in duplicates]
    try:
        Config.model_validate(merged)
    except ValidationError as exc:
        problems += [(_nearest_line(_loc(err), lines) or 0, _describe(err, lines)) for err in exc.errors()]
    if problems:
        # In file order, so the admin can fix them top to bottom.
        problems_text = [text for _, text in sorted(problems, key=lambda p: p[0])]
        if from_options:
            body = "\n".join(f"  - {p}" for p in problems_text)
            raise ConfigError(f"{t('config.header_options', count=len(problems_text))}\n{body}")
        raise ConfigError(_render(path, problems_text))
    return Config.model_validate(merged)


# PyYAML's problems, in words; "context": the error is where the construct began (an unclosed
# bracket is noticed lines later, at the next key), else where the parser stopped.
_YAML_PROBLEMS = [
    ("expected ',' or ']'", "config.yaml.flow_sequence", True),
    ("expected ',' or '}'", "config.yaml.flow_mapping", True),
    ("mapping values are not allowed", "config.yaml.colon_in_value", False),
    ("'\\t' that cannot start any token", "config.yaml.tab", False),
    ("could not find expected ':'", "config.yaml.no_colon", True),
    ("found unexpected end of stream", "config.yaml.unclosed_quote", True),
    ("expected <block end>", "config.yaml.indent", False),
    ("found undefined alias", "config.yaml.alias", False),
    ("that cannot start any token", "config.yaml.start_char", False),
]


def _yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    """A YAML syntax error in words, at the line where the admin must look."""
    text = str(exc.problem or "")
    key, at_context = next(((k, c) for needle, k, c in _YAML_PROBLEMS if needle in text),
                           ("config.yaml.other", False))
    mark = (exc.context_mark if at_context else None) or exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else ("?", "?")
    return t("config.yaml_syntax", line=line, column=column, problem=t(key))


def _render(path: Path, problems: list[str]) -> str:
    body = "\n".join(f"  - {p}" for p in problems)
    return f"{t('config.header', path=path, count=len(problems))}\n{body}\n{t('config.footer')}"


def _merge(base: Any, override: Any) -> Any:
    """Mappings merge key by key; any other value (lists included) replaces the default."""
    if isinstance(base, dict) and isinstance(override, dict):
        result = copy.deepcopy(base)
        for key, value in override.items():
            result[key] = _merge(base.get(key), value) if key in base else value
        return result
    return override


def _line_map(node: yaml.Node | None, prefix: tuple, lines: dict[tuple, int], duplicates: list | None) -> None:
    """Map each key path (as pydantic reports it) to its 1-based line in the user's file.

    PyYAML silently keeps the last of two equal keys; an admin who appends a second ``rules:``
    section would lose the first without a word, so duplicates are collected as problems.
    """
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            loc = prefix + (key_node.value,)
            repeated = loc in lines
            if repeated and duplicates is not None:
                duplicates.append((key_node.start_mark.line + 1, ".".join(map(str, loc))))
            lines[loc] = key_node.start_mark.line + 1
            # Below a repeated key everything repeats: one report for the outermost is enough.
            _line_map(value_node, loc, lines, None if repeated else duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[prefix + (index,)] = item.start_mark.line + 1
            _line_map(item, prefix + (index,), lines, duplicates)


def _loc(err: dict[str, Any]) -> tuple:
    return tuple(part for part in err["loc"] if part != "[key]")


_SIMPLE_REASONS = {
    "int_parsing": "config.want_int",
    "int_type": "config.want_int",
    "int_from_float": "config.want_int",
    "float_parsing": "config.want_number",
    "float_type": "config.want_number",
    "finite_number": "config.want_finite",
    "string_type": "config.want_str",
    "bool_parsing": "config.want_bool",
    "bool_type": "config.want_bool",
    "list_type": "config.want_list",
    "dict_type": "config.want_mapping",
    "model_type": "config.want_mapping",
    "model_attributes_type": "config.want_mapping",
}


def _describe(err: dict[str, Any], lines: dict[tuple, int]) -> str:
    loc = _loc(err)
    if not loc and err["type"] == "dangan":
        # A whole-config check (the roots apart): its reason says it all, the whole config's
        # values would only bury it.
        return t("config.problem", where=t("config.whole"), reason=t(err["msg"], **(err.get("ctx") or {})))
    # pydantic reports a whole-model check (the roots apart) at the model's own location.
    key = ".".join(str(p) for p in loc) if loc else "(config)"
    line = _nearest_line(loc, lines)
    where = f"{t('config.line', line=line)} {key}" if line else key
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]), _fields_at(loc[:-1]), n=1, cutoff=0.5)
        hint = t("config.did_you_mean", key=close[0]) if close else ""
        return t("config.problem", where=where, reason=t("config.unknown_key") + hint)
    if kind == "missing":
        return t("config.problem", where=where, reason=t("config.missing"))
    if kind == "dangan":
        reason = t(err["msg"], **ctx)
    elif kind in _SIMPLE_REASONS:
        reason = t(_SIMPLE_REASONS[kind])
    elif kind == "literal_error":
        reason = t("config.want_one_of", choices=str(ctx.get("expected", "")).replace(" or ", ", "))
    elif kind == "greater_than_equal":
        reason = t("config.want_ge", limit=ctx.get("ge"))
    elif kind == "less_than_equal":
        reason = t("config.want_le", limit=ctx.get("le"))
    elif kind == "greater_than":
        reason = t("config.want_gt", limit=ctx.get("gt"))
    else:
        reason = err["msg"]
    return t("config.problem", where=where, reason=t("config.bad_value", value=_show(err.get("input")), reason=reason))


def _nearest_line(loc: tuple, lines: dict[tuple, int]) -> int | None:
    # A default the user did not write has no line; fall back to the closest written ancestor.
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _fields_at(loc: tuple) -> list[str]:
    model: type[BaseModel] = Config
    for part in loc:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f"“{value}”"
    return text if len(text) <= 80 else text[:77] + "…"
