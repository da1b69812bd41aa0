"""What every command family shares: the config a command runs on, built once with its layout."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NamedTuple

from dangan.config import loader
from dangan.config.messages import set_language
from dangan.config.schema import Config
from dangan.store import clock
from dangan.store.layout import Layout


class Setup(NamedTuple):
    """The loaded config, the file it came from, and the paths derived from it (built once per command)."""

    config: Config
    path: Path
    layout: Layout


def load_config(args: argparse.Namespace) -> Config:
    """The config named by ``--config`` (or the default place), validated; its language is the output's."""
    config = loader.load(loader.resolve_path(args.config))
    set_language(config.language)
    clock.set_zone(config)  # every time shown from here on is in the configured zone
    return config


def setup(args: argparse.Namespace) -> Setup:
    """Load the config and derive the layout once, for the whole command."""
    config = load_config(args)
    return Setup(config, loader.resolve_path(args.config), Layout.of(config))
