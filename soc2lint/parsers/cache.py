"""A content-addressed cache of parsed files in the user cache directory.

Entries are keyed by a hash of the file's text, and live in a directory named after the
versions of soc2lint, python-hcl2 and Lark and a digest of the parsing code, so an entry can never
be stale; the directory is safe to delete. `SOC2LINT_NO_CACHE=1` turns it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any


def _code_digest() -> str:
    """A digest of the code that produces cached values: a change to it is a new cache."""
    from .. import model
    from . import hclast, terraform

    digest = hashlib.sha256()
    for module in (hclast, terraform, model):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:12]


class ParseCache:
    """get/put pickled parse results by content key; failures only make it a miss."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.hits = 0
        self.misses = 0

    @classmethod
    def default(cls) -> ParseCache:
        if os.environ.get("SOC2LINT_NO_CACHE"):
            return cls(None)
        import hcl2
        import lark

        from .. import __version__
        from .terraform import cache_directory

        tag = f"tf-{__version__}-{_code_digest()}-hcl2-{hcl2.__version__}-lark-{lark.__version__}"
        return cls(cache_directory() / tag)

    @staticmethod
    def key(kind: str, text: str) -> str:
        return hashlib.sha256(f"{kind}\x00{text}".encode()).hexdigest()

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / key[:2] / f"{key}.pickle"

    def get(self, key: str) -> Any | None:
        if self.directory is None:
            return None
        try:
            with open(self._path(key), "rb") as handle:
                value = pickle.load(handle)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, IndexError):
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, key: str, value: Any) -> None:
        if self.directory is None:
            return
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except (OSError, pickle.PicklingError, RecursionError):
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(tmp)
