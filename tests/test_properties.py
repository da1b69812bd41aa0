"""Property tests: whatever text a config holds and whatever bytes a name or file holds, dangan
answers with a clear message or a finding, never a traceback."""

from __future__ import annotations

import io
import os
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dangan.config import loader
from dangan.config.errors import ConfigError
from dangan.rules import inspector
from dangan.rules.rulebook import Rulebook

pytestmark = pytest.mark.faults  # bad input everywhere is a case of the fault suite (issue 7)

CONFIG = loader.parse(loader.default_text(), Path("/etc/dangan/config.yaml"))
KEYS = ["language", "timezone", "archive_root", "hash_algorithm", "departments", "rules", "offsite", "mirror",
        "scan_min_dpi", "disabled", "severity", "max_delete_share", "log"]
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_any_text_as_config_is_a_clear_message(text):
    try:
        loader.parse(text, Path("/etc/dangan/config.yaml"))
    except ConfigError as err:
        assert "/etc/dangan/config.yaml" in str(err)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), values, max_size=4))
def test_any_values_in_a_config_are_a_clear_message(data):
    try:
        text = yaml.safe_dump(data, allow_unicode=True)
    except yaml.YAMLError:
        return
    try:
        loader.parse(text, Path("/c.yaml"))
    except ConfigError as err:
        message = str(err)
        assert message.startswith("配置文件 /c.yaml") and "Traceback" not in message


def _stat(size: int, mtime: float = 1.6e9) -> os.stat_result:
    return os.stat_result((0o100644, 1, 1, 1, 0, 0, size, int(mtime), int(mtime), int(mtime)))


names = st.binary(min_size=1, max_size=300).filter(lambda b: b"/" not in b and b"\0" not in b)


@settings(max_examples=300, deadline=None)
@given(st.lists(names, min_size=1, max_size=5), st.binary(max_size=2048))
def test_any_name_and_content_gives_findings_not_crashes(parts, content):
    path = b"/".join(parts)
    facts = inspector.facts_of(io.BytesIO(content), content[: inspector.HEADER], len(content))
    found = Rulebook(CONFIG, today=date(2026, 11, 21)).for_file(path, _stat(len(content)), facts)
    for violation in found:
        assert violation.message and violation.hint  # renders in the catalog's words
