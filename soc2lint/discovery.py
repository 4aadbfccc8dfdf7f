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
OUTSIDE = "symbolic link leads outside the repository: not followed"


@dataclass(frozen=True)
class Source:
    """One input file: its display path (repository-relative, POSIX), kind and text."""

    path: str
    kind: str  # terraform | terraform-json | tfvars | yaml
    text: str
    workflow_dir: bool = False
    action_file: bool = False
    location: Path | None = None  # the real path on disk; None for standard input
    boundary: Boundary | None = field(default=None, compare=False, repr=False)  # its repository


@dataclass(eq=False)
class Boundary:
    """The repository a scanned path belongs to (see `Namer.repository`): nothing outside `top`
    is read for it. `refused` holds the symbolic links already reported for leading out of it,
    so that a link met by the directory walk and again as module context is reported once."""

    top: Path
    refused: set[Path] = field(default_factory=set)

    def refuse(self, link: Path, name: str, notes: list[Notification]) -> None:
        """Report, once, a symbolic link (shown by its own `name`) that leads outside."""
        place = located(link)
        if place not in self.refused:
            self.refused.add(place)
            notes.append(Notification(name, OUTSIDE, "warning"))


@dataclass
class Discovery:
    sources: list[Source] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    roots: list[tuple[str, Path]] = field(default_factory=list)  # repositories of scanned dirs
    walked: set[Path] = field(default_factory=set)
    seen: set[Path] = field(default_factory=set)  # files already added, by real path
    skipped: list[tuple[str, str]] = field(default_factory=list)  # files named but not scanned
    exclude: Callable[[str], bool] | None = None  # repository-relative path (dirs end in /)
    boundaries: dict[Path, Boundary] = field(default_factory=dict)  # by their top directory
    empty: list[str] = field(default_factory=list)  # scanned directories with no input file

    def boundary(self, namer: Namer, path: Path) -> Boundary:
        """The boundary of a scanned path, shared by every path in the same repository."""
        top = namer.repository(path)
        return self.boundaries.setdefault(top, Boundary(top))


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
    """Display paths relative to the enclosing git repository (or the working directory), and
    the repository a scanned path belongs to."""

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

    def repository(self, scanned: Path) -> Path:
        """The repository of a scanned path, the boundary of everything read for it: the git
        work tree enclosing it; without one, the working directory if the path lies inside it,
        else the scanned directory itself (a file's parent directory). A symbolic link named
        here is placed where it is written, not where it points."""
        place = located(scanned)
        directory = place if place.is_dir() and not place.is_symlink() else place.parent
        root = self.repo_root(directory)
        if root is not None:
            return root
        if within(place, self.cwd):
            return self.cwd
        if place.is_dir():
            try:
                return place.resolve()
            except (OSError, RuntimeError):
                return place
        return directory

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


def located(path: Path) -> Path:
    """`path` made absolute, its directories resolved and its last part kept as written."""
    absolute = Path(os.path.abspath(path))
    if not absolute.name:
        return absolute
    try:
        return absolute.parent.resolve() / absolute.name
    except (OSError, RuntimeError):
        return absolute


def within(path: Path, repository: Path) -> bool:
    """Whether a resolved path is the repository or lies inside it."""
    return path == repository or str(path).startswith(os.path.join(repository, ""))


def leaves(path: Path, repository: Path) -> bool:
    """Whether `path`, its symbolic links followed to the end, lies outside `repository` (a
    loop does not: reading it reports the loop)."""
    try:
        real = path.resolve()
    except (OSError, RuntimeError):
        return False
    return not within(real, repository)


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
        if not (path.exists() or path.is_symlink()):
            result.notifications.append(Notification(raw, "no such file or directory"))
            continue
        boundary = result.boundary(namer, path)
        if not path.is_dir():
            _add(path, result, namer, boundary, explicit=True)
        elif leaves(path, boundary.top):
            boundary.refuse(path, namer.name(path, follow=False), result.notifications)
        elif path.resolve() not in result.walked:
            _add_directory(path, result, namer, boundary)
    return result


def _add_directory(path: Path, result: Discovery, namer: Namer, boundary: Boundary) -> None:
    """The inputs under a scanned directory, which lies inside its repository; a directory that
    holds none is listed in `empty` and gives repository rules nothing to judge."""
    result.walked.add(path.resolve())
    walked = []
    for file_path in _walk(path, result, namer, boundary):
        _add(file_path, result, namer, boundary, explicit=False)
        walked.append(_real(file_path))
    read = {s.location for s in result.sources}
    if not read.intersection(walked):
        result.empty.append(str(path))
        return
    top = repository_top(namer, path.resolve())
    if top is not None and all(root != top for _, root in result.roots):
        result.roots.append((namer.name(top), top))


def repository_top(namer: Namer, directory: Path) -> Path | None:
    """Where repository rules look for a scanned directory: the top of its git work tree; outside
    git, the directory itself when it holds `.github/`; else nowhere (a folder of files is not
    a repository)."""
    top = namer.repo_root(directory)
    if top is None and (directory / ".github").is_dir():
        top = directory
    return top


def _walk(root: Path, found: Discovery, namer: Namer, boundary: Boundary) -> Iterator[Path]:
    """The input files under `root`; YAML in a Helm chart's `templates/` is left out (noted once
    per chart), everything else of a chart is read as usual."""
    notes = found.notifications
    real_root = root.resolve()
    visited: set[Path] = set()
    charts: set[Path] = set()
    stack = [root]
    while stack:
        directory = stack.pop()
        real = directory.resolve()
        if real in visited:
            notes.append(Notification(namer.name(directory, follow=False), "symbolic link loop: "
                                      "directory already scanned through another path", "warning"))
            continue
        visited.add(real)
        chart = chart_of_template(directory, boundary.top)
        if chart is not None and chart not in charts:
            charts.add(chart)
            notes.append(_helm_note(namer, chart))
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
                    if not within(target, boundary.top):
                        boundary.refuse(entry_path, namer.name(entry_path, follow=False), notes)
                        continue
                    if real_root not in target.parents:
                        notes.append(Notification(namer.name(entry_path, follow=False), "symbolic link to a "
                                                  "directory outside the scan not followed",
                                                  "note"))
                        continue
                subdirs.append(entry_path)
            elif kind_of(entry.name) and not (found.exclude and found.exclude(
                    namer.name(entry_path, follow=False))) and not (
                    chart is not None and kind_of(entry.name) == "yaml"):
                yield entry_path
        stack.extend(reversed(subdirs))


def _add(path: Path, result: Discovery, namer: Namer, boundary: Boundary, explicit: bool) -> None:
    """Read one file found in a repository; a symbolic link that leaves it is not followed."""
    try:
        real = path.resolve()
    except (OSError, RuntimeError):  # a symbolic link loop: read_text reports it below
        real = located(path)
    if not within(real, boundary.top):
        boundary.refuse(path, namer.name(path, follow=False), result.notifications)
        return
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
    if explicit and kind == "yaml" and chart_of_template(path.parent, boundary.top):
        result.notifications.append(Notification(
            name, "Helm chart template skipped: render the chart with `helm template` and scan the "
            "output with `soc2lint scan -`", "warning"))
        return
    text, problem = read_text(path)
    if problem and path.is_symlink() and not path.exists() and not _is_loop(path):
        problem = "broken symbolic link: its target does not exist"
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
        boundary=boundary,
    ))


def _real(path: Path) -> Path | None:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return None


def chart_of_template(directory: Path, repository: Path | None = None) -> Path | None:
    """The Helm chart (a directory holding Chart.yaml) whose `templates/` folder holds
    `directory`, if any, looked for up to the git work tree's top or `repository`. Only its
    templates are not YAML until rendered: a Chart.yaml elsewhere hides nothing."""
    try:
        current = directory.resolve()
    except (OSError, RuntimeError):
        return None
    for candidate in (current, *current.parents):
        if candidate.name == "templates" and (candidate.parent / "Chart.yaml").is_file():
            return candidate.parent
        if candidate == repository or (candidate / ".git").exists():
            return None
    return None


def _helm_note(namer: Namer, chart: Path) -> Notification:
    return Notification(namer.name(chart / "Chart.yaml"),
                        "Helm chart templates skipped: they are not YAML until rendered; scan the "
                        "output of `helm template` with `soc2lint scan -`", "warning")


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
