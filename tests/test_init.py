"""`dangan init`: a commented config, the folders, the markers, the catalog; never overwrites."""

from __future__ import annotations

import json
import stat

import pytest

from dangan.config import loader
from dangan.cli.main import main


def _init(tmp_path, *extra: str) -> int:
    return main(["init", "--config", str(tmp_path / "etc/config.yaml"), "--archive-root", str(tmp_path / "a"),
                 "--mirror-root", str(tmp_path / "m"), "--state-dir", str(tmp_path / "s"), *extra])


def test_init_writes_commented_valid_config_and_markers(tmp_path):
    assert _init(tmp_path, "--offsite-remote", "partner-sftp:dangan") == 0
    path = tmp_path / "etc/config.yaml"
    text = path.read_text(encoding="utf-8")
    assert "# 档案主目录" in text  # the comments of the default file survive
    config = loader.load(path)
    assert config.archive_root == str(tmp_path / "a")
    assert config.mirror_root == str(tmp_path / "m")
    assert config.offsite.remote == "partner-sftp:dangan"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    archive_marker = json.loads((tmp_path / "a/.dangan-archive").read_text())
    mirror_marker = json.loads((tmp_path / "m/.dangan/marker").read_text())
    assert archive_marker["archive_id"] == mirror_marker["archive_id"]
    assert (tmp_path / "s/catalog.sqlite").exists()


def test_init_defaults_offsite_to_a_local_folder(tmp_path):
    assert _init(tmp_path) == 0
    assert loader.load(tmp_path / "etc/config.yaml").offsite.remote == str(tmp_path / "s/offsite")


def test_init_refuses_to_overwrite_without_force(tmp_path, capsys):
    assert _init(tmp_path) == 0
    path = tmp_path / "etc/config.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "# admin's own note\n", encoding="utf-8")
    assert _init(tmp_path) == 2
    assert "--force" in capsys.readouterr().err
    assert "admin's own note" in path.read_text(encoding="utf-8")
    archive_id = json.loads((tmp_path / "a/.dangan-archive").read_text())["archive_id"]
    assert _init(tmp_path, "--force") == 0
    assert "admin's own note" not in path.read_text(encoding="utf-8")
    # re-initialising keeps the markers: the mirror still belongs to the same archive
    assert json.loads((tmp_path / "a/.dangan-archive").read_text())["archive_id"] == archive_id


def test_init_refuses_a_foreign_non_empty_mirror(tmp_path, capsys):
    (tmp_path / "m").mkdir()
    (tmp_path / "m/someone-elses-data.txt").write_text("x")
    assert _init(tmp_path) == 2
    assert "镜像目录" in capsys.readouterr().err
    assert not (tmp_path / "etc/config.yaml").exists()


def test_init_rejects_bad_values_before_writing(tmp_path, capsys):
    code = main(["init", "--config", str(tmp_path / "c.yaml"), "--archive-root", str(tmp_path / "a"),
                 "--mirror-root", str(tmp_path / "a/inside"), "--state-dir", str(tmp_path / "s")])
    assert code == 2
    assert not (tmp_path / "c.yaml").exists()
    assert "mirror_root" in capsys.readouterr().err


def test_init_missing_arguments_is_a_usage_error(tmp_path, capsys):
    assert main(["init", "--config", str(tmp_path / "c.yaml")]) == 2
    err = capsys.readouterr().err
    assert "--archive-root" in err and "缺少必需的参数" in err


@pytest.mark.parametrize("command", [[], ["init"], ["check"], ["rules"]])
def test_every_command_has_help(command, capsys):
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("用法：dangan")
