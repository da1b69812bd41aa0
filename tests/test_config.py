"""The config: defaults valid, every problem reported at once with line, key and value, exit 2."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from dangan.config import loader
from dangan.config.errors import ConfigError
from dangan.config.rule_ids import RULE_IDS
from dangan.cli.main import main


def _problems(text: str, tmp_path: Path) -> str:
    with pytest.raises(ConfigError) as err:
        loader.parse(text, tmp_path / "c.yaml")
    return str(err.value)


def test_defaults_are_valid_and_hold_the_seed_tables(tmp_path):
    config = loader.parse(loader.default_text(), tmp_path / "c.yaml")
    assert config.departments[0] == "01办公室" and config.departments[-1] == "15专项组"
    assert len(config.departments) == 15
    assert config.categories == ["A标准建设", "B教学诊改", "C质量提升", "D提质培优", "E基地建设", "F省重复核"]
    assert config.hash_algorithm == "sha256" and config.language == "zh"
    assert config.rules.scan_min_dpi == 200


def test_default_file_documents_every_key():
    """Every key of the schema appears in the commented default file, with a comment above it."""
    text = loader.default_text()
    data = yaml.safe_load(text)
    lines = text.splitlines()

    def keys(node, prefix=""):
        for key, value in node.items():
            yield prefix + key, key
            if isinstance(value, dict) and key not in ("severity",):
                yield from keys(value, prefix + key + ".")

    for dotted, key in keys(data):
        index = next(i for i, line in enumerate(lines) if line.strip().startswith(key + ":"))
        assert lines[index - 1].strip().startswith("#"), f"{dotted} has no comment"


def test_user_config_overrides_defaults(tmp_path):
    text = "departments: [01办公室, 16专项组]\nrules:\n  scan_min_dpi: 300\nhash_algorithm: sm3\n"
    config = loader.parse(text, tmp_path / "c.yaml")
    assert config.departments == ["01办公室", "16专项组"]
    assert config.rules.scan_min_dpi == 300
    assert config.rules.name_max_bytes == 140  # untouched defaults stay
    assert config.hash_algorithm == "sm3"
    hashlib.new("sm3")  # selectable because this machine has it


def test_every_problem_is_reported_at_once_with_lines_and_values(tmp_path):
    text = (
        "language: fr\n"            # 1
        "archive_root: relative\n"  # 2
        "rules:\n"                  # 3
        "  scan_min_dpi: lots\n"    # 4
        "  scan_min_dp: 300\n"      # 5
        "  disabled: [naming.dat]\n"  # 6
        "offsite:\n"                # 7
        "  remote: 'x:$(touch pwned)'\n"  # 8
    )
    message = _problems(text, tmp_path)
    assert "6 处错误" in message and str(tmp_path / "c.yaml") in message
    assert "第 1 行 language" in message and "“fr”" in message
    assert "第 2 行 archive_root" in message and "绝对路径" in message
    assert "第 4 行 rules.scan_min_dpi" in message and "应为整数" in message
    assert "第 5 行 rules.scan_min_dp" in message and "scan_min_dpi" in message
    assert "第 6 行 rules.disabled.0" in message and "naming.date" in message
    assert "第 8 行 offsite.remote" in message and "shell" in message
    # in file order
    assert message.index("第 1 行") < message.index("第 4 行") < message.index("第 8 行")


def test_yaml_syntax_error_names_the_line(tmp_path):
    message = _problems("language: zh\nrules:\n  disabled: [a,\n", tmp_path)
    assert "YAML" in message and "第 4 行" in message


def test_duplicate_keys_are_not_silently_dropped(tmp_path):
    message = _problems("rules:\n  scan_min_dpi: 300\nrules:\n  name_max_bytes: 100\n", tmp_path)
    assert "第 3 行 rules" in message and "两次" in message


def test_roots_must_be_apart(tmp_path):
    message = _problems("archive_root: /srv/a\nmirror_root: /srv/a/mirror\n", tmp_path)
    assert "archive_root" in message and "mirror_root" in message


def test_unknown_rule_severity_and_bad_timezone(tmp_path):
    message = _problems("timezone: Asia/Peking2\nrules:\n  severity: {duplicat: error}\n", tmp_path)
    assert "时区" in message and "duplicate" in message


@pytest.mark.parametrize("bad", ["a;b", "a`b`", "a$(x)", "a|b", "a\nb", "a'b"])
def test_shell_metacharacters_refused_in_paths(tmp_path, bad):
    text = f"mirror_root: {yaml.safe_dump('/srv/' + bad).strip().splitlines()[0]}\n"
    if "\n" in bad:
        text = 'mirror_root: "/srv/a\\nb"\n'
    assert "shell" in _problems(text, tmp_path)


def test_every_rule_id_can_be_configured(tmp_path):
    text = "rules:\n  disabled: [" + ", ".join(RULE_IDS) + "]\n"
    assert loader.parse(text, tmp_path / "c.yaml").rules.disabled == list(RULE_IDS)


def test_cli_exit_code_2_and_no_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [1, 2\n", encoding="utf-8")
    assert main(["check", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and str(bad) in err


def test_config_path_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv("DANGAN_CONFIG", raising=False)
    assert loader.resolve_path(None) == Path("/etc/dangan/config.yaml")
    monkeypatch.setenv("DANGAN_CONFIG", str(tmp_path / "env.yaml"))
    assert loader.resolve_path(None) == tmp_path / "env.yaml"
    assert loader.resolve_path(str(tmp_path / "cli.yaml")) == tmp_path / "cli.yaml"


def test_missing_config_says_what_to_do(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DANGAN_CONFIG", str(tmp_path / "nowhere.yaml"))
    assert main(["check"]) == 2
    err = capsys.readouterr().err
    assert "nowhere.yaml" in err and "dangan init" in err


def test_english_config_errors(tmp_path):
    from dangan.config.messages import set_language

    set_language("en")
    try:
        message = _problems("rules:\n  scan_min_dpi: lots\n", tmp_path)
    finally:
        set_language("zh")
    assert "line 2 rules.scan_min_dpi" in message and "must be an integer" in message


def _numeric_keys() -> list[tuple[str, str]]:
    """Every int/float key of the schema, as (section, key) (section "" for the top level)."""
    from typing import get_args

    from dangan.config.schema import Config

    found = []

    def walk(model, section):
        for name, field in model.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
                walk(annotation, name)
            elif annotation in (int, float):
                found.append((section, name))
            elif any(a in (int, float) for a in get_args(annotation)):
                found.append((section, name))
    walk(Config, "")
    return found


@pytest.mark.parametrize("section,key", _numeric_keys())
@pytest.mark.parametrize("value", [".inf", "1e300", "-.inf", ".nan"])
def test_every_number_is_bounded_at_load(tmp_path, section, key, value):
    """12.11: `offsite.timeout_minutes: .inf` passed validation and the backup then died."""
    text = f"{section}:\n  {key}: {value}\n" if section else f"{key}: {value}\n"
    message = _problems(text, tmp_path)
    assert (f"{section}.{key}" if section else key) in message, message
    assert "应" in message and "Traceback" not in message, message
