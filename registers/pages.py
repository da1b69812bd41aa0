"""The printable pages of the registers: autoescaped Jinja2 templates in ``registers/templates/`` (names
are whatever people typed, so markup in a name stays text). The weekly report loads the scorecard's
macro from here too, so the section reads the same in the report and in the export."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

from dangan.config.messages import t

TEMPLATES = Path(__file__).with_name("templates")


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals["t"] = t
    return env


def render(template: str, **values: object) -> str:
    return environment().get_template(template).render(**values)
