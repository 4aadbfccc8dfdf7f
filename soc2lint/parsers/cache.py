"""Caches of parsed Terraform files and of the HCL grammar's tables, stored as data only.

An entry is a file of two lines: a JSON header (what it holds, the format version, its key and
the SHA-256 of the second line) and a JSON payload. Loading one cannot run code: the payload is
checked and rebuilt into an allow-list of types (`cache_codec`), and an entry that is missing,
truncated, corrupted, of another key or of another format is a miss, never an error.

Parsed files are keyed by a hash of their text, in a directory named after the versions of
soc2lint, python-hcl2 and Lark and a digest of the parsing code, so an entry can never be stale;
the cache is safe to delete. `SOC2LINT_NO_CACHE=1` turns the parse cache off.

A cache directory is used only when it belongs to the current user and neither its group nor
others may write to it (on a shared runner another account could otherwise plant entries); when
one is refused, `take_notices()` says why, once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

from .cache_codec import Invalid, decode_file, encode_file, expect, from_typed_json, to_typed_json
from .terraform import TfFile

FORMAT = 1  # the layout of entries: a new one makes older entries misses
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
               | getattr(os, "O_BINARY", 0))  # a named pipe or a link is not followed
_ERRORS = (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError)

_verdicts: dict[str, bool] = {}  # directory -> may be used; checked once per process
_notices: list[str] = []  # refused directories the user has not been told about yet


# -- the cache directory ---------------------------------------------------------------------
def check_directory(path: Path, create: bool = True) -> bool | None:
    """True when `path` may hold cache entries; False when it must not, because another user
    could write to it (the user is told); None when it is missing and not created."""
    verdict = _verdicts.get(str(path))
    if verdict is not None:
        return verdict
    try:
        if create:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        status = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(status.st_mode):
        return None
    problem = _problem(status)
    if problem:
        notice = f"not using the cache in {path}: {problem}"
        if notice not in _notices:
            _notices.append(notice)
    _verdicts[str(path)] = not problem
    return not problem


def _problem(status: os.stat_result) -> str | None:
    """Why a directory must not be trusted with cache entries, or None."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # Windows: no user id, and mode bits that do not reflect the ACLs
        return None
    if status.st_uid != getuid():
        return (f"it belongs to another user (uid {status.st_uid}); set SOC2LINT_CACHE_DIR to a "
                "directory of your own")
    if status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (f"other users may write to it (mode {stat.S_IMODE(status.st_mode):o}); make it "
                "private (chmod go-w) or set SOC2LINT_CACHE_DIR to a directory of your own")
    return None


def take_notices() -> list[str]:
    """Why a cache directory was refused, each reason once: the caller shows them to the user."""
    taken = list(_notices)
    _notices.clear()
    return taken


# -- entry files -----------------------------------------------------------------------------
def _header(kind: str, key: str, payload: bytes) -> dict[str, Any]:
    return {"soc2lint": kind, "format": FORMAT, "key": key,
            "sha256": hashlib.sha256(payload).hexdigest()}


def _read_entry(path: Path, kind: str, key: str) -> bytes:
    """The payload of a regular entry file whose header checks out; raises OSError or ValueError."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Invalid("not a regular file")
        with open(fd, "rb", closefd=False) as handle:
            data = handle.read()
    finally:
        os.close(fd)
    head, _, payload = data.partition(b"\n")
    if json.loads(head) != _header(kind, key, payload):
        raise Invalid("another entry, format or content")
    return payload


def _write_entry(path: Path, kind: str, key: str, payload: bytes) -> None:
    """Write an entry atomically (a reader sees the old file or the new one); failures are ignored."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(_dumps(_header(kind, key, payload)) + b"\n" + payload)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), check_circular=False).encode()


# -- parsed files ----------------------------------------------------------------------------
def _code_digest() -> str:
    """A digest of the code that produces and stores cached values: a change to it is a new cache."""
    from .. import model
    from . import cache_codec, hclast, terraform, yamlspans

    digest = hashlib.sha256()
    for name in (hclast.__file__, terraform.__file__, yamlspans.__file__, model.__file__, __file__,
                 cache_codec.__file__):
        digest.update(Path(name).read_bytes())
    return digest.hexdigest()[:12]


class ParseCache:
    """get/put parsed files by content key; anything unreadable is a miss."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.hits = 0
        self.misses = 0

    @classmethod
    def default(cls) -> ParseCache:
        """The cache in the user's cache directory; none when turned off or refused."""
        if os.environ.get("SOC2LINT_NO_CACHE"):
            return cls(None)
        import hcl2
        import lark

        from .. import __version__
        from .terraform import cache_directory

        root = cache_directory()
        if not check_directory(root):
            return cls(None)
        tag = f"tf-{__version__}-{_code_digest()}-hcl2-{hcl2.__version__}-lark-{lark.__version__}"
        return cls(root / tag)

    @staticmethod
    def key(kind: str, text: str) -> str:
        return hashlib.sha256(f"{kind}\x00{text}".encode()).hexdigest()

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / key[:2] / f"{key}.json"

    def _usable(self, folder: Path, create: bool) -> bool:
        """Whether the cache directory and `folder` in it may be used; a refused one turns the
        cache off for the rest of the run."""
        for directory in (self.directory, folder):
            verdict = check_directory(directory, create) if directory is not None else None
            if verdict is False:
                self.directory = None
            if not verdict:
                return False
        return True

    def get(self, key: str) -> TfFile | None:
        """The parsed file stored under `key`, or None."""
        if self.directory is None:
            return None
        path = self._path(key)
        value = None
        if self._usable(path.parent, create=False):
            try:
                value = decode_file(json.loads(_read_entry(path, "tf", key)))
            except _ERRORS:
                value = None
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def put(self, key: str, value: TfFile) -> None:
        """Store a parsed file; one holding a value outside the allow-list is not stored."""
        if self.directory is None:
            return
        try:
            payload = _dumps(encode_file(value))
        except _ERRORS:
            return
        path = self._path(key)
        if self._usable(path.parent, create=True):
            _write_entry(path, "tf", key, payload)


# -- the grammar's tables --------------------------------------------------------------------
def load_parser(grammar: Path, directory: Path, **options: Any):
    """A Lark LALR parser of `grammar`: its tables read from `directory` when a stored entry
    checks out, else built (about a second) and stored there for the next run."""
    import lark

    key = hashlib.sha256(b"\x00".join([
        grammar.read_bytes(), repr(sorted(options.items())).encode(), lark.__version__.encode(),
        repr(sys.version_info[:2]).encode(), str(FORMAT).encode()])).hexdigest()
    path = directory / f"{grammar.stem}-lark-{lark.__version__}-{key[:16]}.json"
    usable = check_directory(directory)
    parser = _read_parser(path, key, options) if usable else None
    if parser is None:
        parser = lark.Lark.open(str(grammar), parser="lalr", **options)
        if usable:
            _store_parser(parser, path, key)
    return parser


def _read_parser(path: Path, key: str, options: dict[str, Any]):
    """The stored parser; None when the entry is missing or bad, or its options differ."""
    import lark

    try:
        from lark.lark import _LOAD_ALLOWED_OPTIONS  # options given when loading, not stored

        data = json.loads(_read_entry(path, "grammar", key), object_hook=from_typed_json)
        expect(type(data) is dict and set(data) == {"data", "memo"} and type(data["data"]) is dict
                and type(data["data"].get("options")) is dict
                and not set(data["data"]["options"]) & _LOAD_ALLOWED_OPTIONS)
        parser = lark.Lark._load_from_dict(data["data"], data["memo"], **{
            k: v for k, v in options.items() if k in _LOAD_ALLOWED_OPTIONS})
        expect(parser.options.parser == "lalr"
                and all(getattr(parser.options, k) == v for k, v in options.items()))
        return parser
    except Exception:  # whatever a bad entry makes Lark raise, the tables are built again
        return None


def _store_parser(parser, path: Path, key: str) -> None:
    """Store the tables; not when Lark's serialisation (not public API) is not what it was."""
    try:
        from lark.grammar import Rule
        from lark.lark import _LOAD_ALLOWED_OPTIONS
        from lark.lexer import TerminalDef

        data, memo = parser.memo_serialize([TerminalDef, Rule])
        data["options"] = {k: v for k, v in data["options"].items() if k not in _LOAD_ALLOWED_OPTIONS}
        payload = _dumps(to_typed_json({"data": data, "memo": memo}))
    except (ImportError, *_ERRORS):
        return
    _write_entry(path, "grammar", key, payload)


