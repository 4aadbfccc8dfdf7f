"""What git says about a revision: the files changed since it (renamed, added, deleted) and the
lines touched, and the files as they were then.

The working tree, staged or not, is compared with the merge base of the revision and HEAD (the
revision itself when there is none, as in a shallow pull-request checkout). Untracked files that
git does not ignore count as added. Git itself is only read.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,(?P<count>\d+))? @@")
_STATUS = {"A": "added", "M": "modified", "T": "modified", "D": "deleted", "R": "renamed",
           "C": "added"}


class GitError(Exception):
    """git cannot answer: not a repository, or a revision it does not have."""


@dataclass(frozen=True)
class FileChange:
    """One changed file; `lines` are new or changed lines, `gaps` the lines after which lines were
    deleted. An added file is new throughout."""

    path: str  # repository-relative, POSIX; for a deleted file its old path
    status: str  # added | modified | renamed | deleted
    old_path: str | None = None  # the path at the base (None for an added file)
    lines: frozenset[int] = frozenset()
    gaps: frozenset[int] = frozenset()

    def touches(self, start: int, end: int) -> bool:
        """Whether lines start..end (a block) hold a change."""
        if self.status == "added":
            return True
        # a gap at `end` counts: the last lines of a YAML block end where its span ends
        return (not self.lines.isdisjoint(range(start, end + 1))
                or any(start <= gap <= end for gap in self.gaps))


@dataclass(frozen=True)
class ChangeSet:
    """The changes of the working tree since `commit` (what `base` resolved to)."""

    root: Path
    base: str
    commit: str
    files: Mapping[str, FileChange] = field(default_factory=dict)

    def present(self) -> list[FileChange]:
        """Changed files that still exist, in path order."""
        return [c for _, c in sorted(self.files.items()) if c.status != "deleted"]

    def relative(self, path: Path | str | None) -> str | None:
        """`path` as git names it, relative to the repository; None when it lies outside."""
        try:
            return Path(path).resolve().relative_to(self.root).as_posix() if path else None
        except ValueError:
            return None

    def old_text(self, change: FileChange) -> str | None:
        """The file as it was at the base, or None when it did not exist there."""
        return read_at(self.root, self.commit, change.old_path) if change.old_path else None


def command(root: Path, *args: str) -> list[str]:
    """git on the repository whose work tree is `root`, its `.git` named explicitly: git never
    looks for a repository itself, so a bare repository committed in the scanned files (whose
    configuration could run commands) is never used, and no file system monitor is started."""
    return ["git", f"--git-dir={root / '.git'}", f"--work-tree={root}", "-C", str(root),
            "-c", "core.fsmonitor=false", "-c", "core.quotePath=false", *args]


def top_of(start: Path) -> Path | None:
    """The work tree around `start`, found without asking git (see `Namer.repo_root`)."""
    from .discovery import Namer

    start = start.resolve()
    return Namer().repo_root(start if start.is_dir() else start.parent)


def git(root: Path, *args: str) -> str:
    """Output of a git command on the repository at `root`, decoded as the file system decodes
    names (bytes that are not UTF-8 survive); GitError with git's message otherwise."""
    try:
        done = subprocess.run(command(root, *args), capture_output=True, timeout=300, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitError(f"cannot run git: {exc}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise GitError(message.splitlines()[-1] if message else f"git {args[0]} failed")
    return os.fsdecode(done.stdout)


def repository_root(start: Path) -> Path:
    """The work tree around `start`, checked by git; GitError when there is none."""
    top = top_of(start)
    try:
        if top is None:
            raise GitError("no .git")
        git(top, "rev-parse", "--git-dir")
    except GitError:
        raise GitError(f"{start.resolve()}: not inside a git repository") from None
    return top


def read_at(root: Path, commit: str, path: str) -> str | None:
    """A file's text at a commit, or None when it is not there."""
    try:
        return git(root, "show", f"{commit}:{path}")
    except GitError:
        return None


def materialise(root: Path, commit: str, dest: Path, wanted: Callable[[str], bool]) -> int:
    """Write the regular files of `commit` whose path `wanted` accepts under `dest`, with an empty
    `.git` folder so that soc2lint names them as in the repository; returns how many."""
    listing = git(root, "ls-tree", "-r", "-z", "--full-tree", commit)
    names = []
    for entry in listing.split("\0"):
        meta, _, path = entry.partition("\t")
        if meta.startswith(("100644 blob", "100755 blob")) and "\n" not in path and wanted(path):
            names.append(path)
    (dest / ".git").mkdir(parents=True, exist_ok=True)
    if not names:
        return 0
    try:
        done = subprocess.run(command(root, "cat-file", "--batch"), check=True,
                              input="".join(f"{commit}:{n}\n" for n in names).encode("utf-8"),
                              capture_output=True, timeout=300)
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitError(f"cannot read {commit}: {exc}") from None
    out, position = done.stdout, 0
    for name in names:
        end = out.index(b"\n", position)
        header = out[position:end].split()
        position = end + 1
        if header[-1] == b"missing":
            continue
        size = int(header[2])
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(out[position:position + size])
        position += size + 1
    return len(names)


def resolve(root: Path, ref: str) -> str:
    """The commit `ref` names, or GitError saying how to get it."""
    try:
        return git(root, "rev-parse", "--verify", "--quiet", "--end-of-options",
                   f"{ref}^{{commit}}").strip()
    except GitError:
        raise GitError(f"'{ref}' is not a commit in {root} (in a shallow clone, fetch it first: "
                       f"git fetch --depth=1 origin {ref})") from None


def changes_since(ref: str, start: Path) -> ChangeSet:
    """Files and lines changed in the working tree since the merge base of `ref` and HEAD."""
    root = repository_root(start)
    commit = resolve(root, ref)
    with contextlib.suppress(GitError):  # without common history (a shallow clone): `ref` itself
        commit = git(root, "merge-base", commit, "HEAD").strip() or commit
    statuses = _statuses(git(root, "diff", "--name-status", "-z", "-M", "--no-ext-diff", commit))
    for path in git(root, "ls-files", "--others", "--exclude-standard", "-z").split("\0"):
        if path:
            statuses[path] = ("added", None)
    hunks = _hunks(git(root, "diff", "-U0", "-M", "--no-color", "--no-ext-diff", "--no-textconv",
                       "--src-prefix=a/", "--dst-prefix=b/", commit))
    files = {}
    for path, (status, old_path) in statuses.items():
        lines, gaps = hunks.get(path, ((), ()))
        files[path] = FileChange(path, status, old_path, frozenset(lines), frozenset(gaps))
    return ChangeSet(root, ref, commit, files)


def _statuses(output: str) -> dict[str, tuple[str, str | None]]:
    """path -> (status, path at the base) from `git diff --name-status -z -M`."""
    fields = output.split("\0")
    found: dict[str, tuple[str, str | None]] = {}
    index = 0
    while index < len(fields) and fields[index]:
        code = fields[index][0]
        if code in "RC":
            old, new = fields[index + 1], fields[index + 2]
            found[new] = (_STATUS[code], old if code == "R" else None)
            index += 3
            continue
        path = fields[index + 1]
        status = _STATUS.get(code, "modified")
        found[path] = (status, None if status == "added" else path)
        index += 2
    return found


def _hunks(patch: str) -> dict[str, tuple[list[int], list[int]]]:
    """path -> (changed lines, gaps) from a `-U0` patch. Lines are split on newlines only, and a
    `+++` line names a file only in a file header (before its first hunk), so no file content
    can pass for a header."""
    found: dict[str, tuple[list[int], list[int]]] = {}
    current: tuple[list[int], list[int]] | None = None
    in_header = False
    for line in patch.split("\n"):
        if line.startswith("diff --git "):
            in_header, current = True, None
        elif in_header and line.startswith("+++ "):
            target = line[4:]
            current = None if target == "/dev/null" else found.setdefault(
                _unquote(target).removeprefix("b/"), ([], []))
        elif line.startswith("@@ ") and current is not None:
            in_header = False
            match = _HUNK.match(line)
            if match:
                start, count = int(match["start"]), int(match["count"] or 1)
                if count:
                    current[0].extend(range(start, start + count))
                else:
                    current[1].append(start)
    return found


def _unquote(name: str) -> str:
    """A path as git prints it: C-quoted when it holds a quote, backslash or control character."""
    if not name.startswith('"'):
        return name.rstrip("\t")
    import codecs

    return codecs.escape_decode(name.rstrip("\t")[1:-1].encode("utf-8"))[0].decode("utf-8", "replace")
