"""Find the files to scan, read them safely, and name them relative to their repository."""

from __future__ import annotations

import errno
import os
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .model import Notification

MAX_FILE_BYTES = 10 * 1024 * 1024
SKIP_DIRS = frozenset({".git", ".terraform", "node_modules", ".venv", "venv", "__pycache__",
                       ".tox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".terragrunt-cache"})
_SOURCE_COMMENT = re.compile(r"^# Source: (\S.*?)\s*$", re.M)


@dataclass(frozen=True)
class Source:
    """One input file: its display path (repository-relative, POSIX), kind and text."""

    path: str
    kind: str  # terraform | terraform-json | tfvars | yaml
    text: str
    workflow_dir: bool = False
    action_file: bool = False
    location: Path | None = None  # the real path on disk; None for standard input


@dataclass
class Discovery:
    sources: list[Source] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    roots: list[tuple[str, Path]] = field(default_factory=list)  # repositories of scanned dirs
    walked: set[Path] = field(default_factory=set)
    seen: set[Path] = field(default_factory=set)  # files already added, by real path
    skipped: list[tuple[str, str]] = field(default_factory=list)  # files named but not scanned
    exclude: Callable[[str], bool] | None = None  # repository-relative path (dirs end in /)


TERRAFORM_CODE = ("terraform", "terraform-json")  # the kinds that declare resources
TERRAFORM_KINDS = (*TERRAFORM_CODE, "tfvars")
NOT_INPUTS = frozenset({".soc2lint.yaml", ".soc2lint.yml"})  # soc2lint's own configuration


def kind_of(name: str) -> str | None:
    lowered = name.lower()
    if lowered in NOT_INPUTS:
        return None
    if lowered.endswith((".tf.json", ".tofu.json")):
        return "terraform-json"
    if lowered.endswith((".tf", ".tofu")):
        return "terraform"
    if lowered.endswith((".tfvars", ".tfvars.json")):
        return "tfvars"
    if lowered.endswith((".yaml", ".yml")):
        return "yaml"
    return None


class Namer:
    """Display paths relative to the enclosing git repository (or the working directory)."""

    def __init__(self) -> None:
        self.cwd = Path.cwd().resolve()
        self._roots: dict[Path, Path | None] = {}

    def repo_root(self, directory: Path) -> Path | None:
        if directory not in self._roots:
            found = None
            for candidate in (directory, *directory.parents):
                if (candidate / ".git").exists():
                    found = candidate
                    break
            self._roots[directory] = found
        return self._roots[directory]

    def name(self, path: Path, follow: bool = True) -> str:
        """Display name; with follow=False a symbolic link keeps its own name."""
        if not follow:
            return display(posixpath.join(self.name(path.parent), path.name).removeprefix("./"))
        resolved = path.resolve()
        root = self.repo_root(resolved if resolved.is_dir() else resolved.parent) or self.cwd
        try:
            return display(resolved.relative_to(root).as_posix())
        except ValueError:
            return display(resolved.as_posix())


def display(name: str) -> str:
    """A file name as shown: bytes that are not UTF-8 become U+FFFD, so every output can be
    written (the file itself is still read under its real name)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def discover(paths: list[str], stdin_text: str | None = None, stdin_name: str | None = None,
             exclude: Callable[[str], bool] | None = None) -> Discovery:
    """Sources for the paths; `exclude` drops repository-relative paths (config `exclude`)."""
    result = Discovery(exclude=exclude)
    namer = Namer()
    for raw in paths:
        if raw == "-":
            result.sources.extend(split_stream(stdin_text or "", stdin_name))
            continue
        path = Path(raw)
        if path.is_dir():
            if path.resolve() in result.walked:
                continue
            result.walked.add(path.resolve())
            repository = namer.repo_root(path.resolve()) or path.resolve()
            if all(root != repository for _, root in result.roots):
                result.roots.append((namer.name(repository), repository))
            chart = helm_chart_of(path)
            if chart:
                result.notifications.append(_helm_note(namer, chart))
                continue
            for file_path in _walk(path, result, namer):
                _add(file_path, result, namer, explicit=False)
        elif path.exists() or path.is_symlink():
            _add(path, result, namer, explicit=True)
        else:
            result.notifications.append(Notification(raw, "no such file or directory"))
    return result


def _walk(root: Path, found: Discovery, namer: Namer) -> Iterator[Path]:
    notes = found.notifications
    real_root = root.resolve()
    visited: set[Path] = set()
    stack = [root]
    while stack:
        directory = stack.pop()
        real = directory.resolve()
        if real in visited:
            notes.append(Notification(namer.name(directory, follow=False), "symbolic link loop: "
                                      "directory already scanned through another path", "warning"))
            continue
        visited.add(real)
        if (directory / "Chart.yaml").is_file():
            notes.append(_helm_note(namer, directory))
            continue
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            notes.append(Notification(namer.name(directory), f"cannot list directory: "
                                      f"{exc.strerror or exc}"))
            continue
        subdirs = []
        for entry in entries:
            entry_path = Path(entry.path)
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if not is_dir and entry.is_symlink() and not entry_path.exists() and _is_loop(entry_path):
                notes.append(Notification(namer.name(entry_path, follow=False),
                                          "symbolic link loop not followed", "warning"))
                continue
            if is_dir:
                if entry.name in SKIP_DIRS or (found.exclude and found.exclude(
                        namer.name(entry_path, follow=False) + "/")):
                    continue
                if entry.is_symlink():
                    target = entry_path.resolve()
                    if target == real_root or (real_root in target.parents and (
                            target in visited or target in entry_path.parents)):
                        notes.append(Notification(namer.name(entry_path, follow=False),
                                                  "symbolic link loop not followed", "warning"))
                        continue
                    if real_root not in target.parents:
                        notes.append(Notification(namer.name(entry_path, follow=False), "symbolic link to a "
                                                  "directory outside the scan not followed",
                                                  "note"))
                        continue
                subdirs.append(entry_path)
            elif kind_of(entry.name) and not (found.exclude and found.exclude(
                    namer.name(entry_path, follow=False))):
                yield entry_path
        stack.extend(reversed(subdirs))


def _add(path: Path, result: Discovery, namer: Namer, explicit: bool) -> None:
    try:
        real = path.resolve()
    except (OSError, RuntimeError):  # a symbolic link loop: read_text reports it below
        real = path.absolute()
    if real in result.seen:
        return
    result.seen.add(real)
    name = namer.name(path, follow=path.exists())
    if explicit and result.exclude and result.exclude(name):
        result.skipped.append((name, "excluded by the configuration's exclude patterns"))
        return
    kind = kind_of(path.name)
    if kind is None:
        if explicit:
            result.notifications.append(Notification(
                name, "not a supported input (Terraform, Kubernetes YAML or GitHub Actions)",
                "note"))
        return
    if explicit and helm_chart_of(path.parent):
        result.notifications.append(Notification(
            name, "Helm chart file skipped: render the chart with `helm template` and scan the "
            "output with `soc2lint scan -`", "warning"))
        return
    text, problem = read_text(path)
    if problem:
        level = "note" if problem == "empty file" else "error"
        result.notifications.append(Notification(name, problem, level))
        return
    parts = Path(name).parts
    result.sources.append(Source(
        name, kind, text,
        workflow_dir=len(parts) >= 3 and parts[-3:-1] == (".github", "workflows"),
        action_file=path.name in ("action.yml", "action.yaml"),
        location=real,
    ))


def helm_chart_of(directory: Path) -> Path | None:
    """The chart directory (holding Chart.yaml) that contains `directory`, if any."""
    try:
        current = directory.resolve()
    except (OSError, RuntimeError):
        return None
    for candidate in (current, *current.parents):
        if (candidate / "Chart.yaml").is_file():
            return candidate
        if (candidate / ".git").exists():
            return None
    return None


def _helm_note(namer: Namer, chart: Path) -> Notification:
    return Notification(namer.name(chart / "Chart.yaml"),
                        "Helm chart skipped: templates are not YAML until rendered; scan the output "
                        "of `helm template` with `soc2lint scan -`", "warning")


def _is_loop(path: Path) -> bool:
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def read_text(path: Path) -> tuple[str, str | None]:
    """The file's text, or a problem: unreadable, too large, binary, not UTF-8, empty."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return "", f"file too large ({size:,} bytes; the limit is {MAX_FILE_BYTES:,})"
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno == errno.ELOOP:
            reason = "symbolic link loop"
        return "", f"cannot read file: {reason}"
    if b"\x00" in data[:8192]:
        return "", "binary file, not text"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return "", f"not UTF-8 text (invalid byte at offset {exc.start})"
    if not text.strip():
        return "", "empty file"
    return text, None


def split_stream(text: str, default_name: str | None = None) -> list[Source]:
    """A rendered stream (`helm template`) -> one YAML source per `# Source:` file."""
    name = default_name or "<stdin>"
    chunks = re.split(r"^---[ \t]*$", text, flags=re.M)
    grouped: dict[str, list[str]] = {}
    for chunk in chunks:
        if not chunk.strip():
            continue
        match = _SOURCE_COMMENT.search(chunk)
        source = match.group(1) if match and not default_name else name
        grouped.setdefault(source, []).append(chunk.strip("\n"))
    return [Source(path, "yaml", "\n---\n".join(parts) + "\n")
            for path, parts in grouped.items()]
