"""Shared helpers for the test suite."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session", autouse=True)
def _own_cache_directory(tmp_path_factory):
    """Parse and grammar caches of the test session live in a temporary directory."""
    import os

    os.environ["SOC2LINT_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def all_rules():
    from soc2lint.rules import load_rules

    return load_rules()
