"""What git can tell about the scanned code: repository, commit, and who wrote an ignore.

Read-only `git` commands; without git or outside a repository every answer is None.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .model import Finding, ScanResult
from .secrets import without_credentials

_UNCOMMITTED = "0" * 40


@dataclass(frozen=True)
class Repository:
    root: Path
    name: str  # the origin remote without credentials, or the directory name
    commit: str | None
    commit_date: str | None
    branch: str | None
    dirty: bool


def _git(root: Path, *args: str) -> str | None:
    from .gitdiff import command

    try:
        done = subprocess.run(command(root, *args), capture_output=True, text=True,
                              timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def repository(path: Path) -> Repository | None:
    """The git repository around `path`, or None."""
    from .gitdiff import GitError, repository_root

    try:
        root = repository_root(path)
    except (GitError, OSError, RuntimeError):  # not a repository, or a symbolic link loop
        return None
    remote = (_git(root, "remote", "get-url", "origin") or "").strip()
    commit = (_git(root, "rev-parse", "HEAD") or "").strip() or None
    date = (_git(root, "log", "-1", "--format=%cI") or "").strip() or None if commit else None
    branch = (_git(root, "rev-parse", "--abbrev-ref", "HEAD") or "").strip() or None
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    return Repository(root, without_credentials(remote) or root.name, commit, date,
                      None if branch == "HEAD" else branch, bool(status and status.strip()))


def blame(root: Path, path: str, lines: set[int]) -> dict[int, tuple[str, str, str]]:
    """line -> (author, commit, author date) for the committed lines asked for."""
    args = [a for line in sorted(lines) for a in ("-L", f"{line},{line}")]
    out = _git(root, "blame", "--porcelain", *args, "--", path)
    if out is None:
        return {}
    found: dict[int, tuple[str, str, str]] = {}
    commits: dict[str, dict[str, str]] = defaultdict(dict)
    current: tuple[str, int] | None = None
    for row in out.splitlines():
        head = re.match(r"^([0-9a-f]{40}) \d+ (\d+)", row)
        if head:
            current = (head.group(1), int(head.group(2)))
            continue
        if current is None:
            continue
        key, _, value = row.partition(" ")
        if key in ("author", "author-mail", "author-time"):
            commits[current[0]][key] = value
        elif row.startswith("\t"):
            sha, line = current
            info = commits[sha]
            if sha != _UNCOMMITTED:
                mail = info.get("author-mail", "").strip("<>")
                author = f"{info.get('author', '')} <{mail}>" if mail else info.get("author", "")
                found[line] = (author, sha, _iso_date(info.get("author-time")))
    return found


def _iso_date(epoch: str | None) -> str:
    import datetime

    if not epoch:
        return ""
    return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).date().isoformat()


def with_authors(result: ScanResult, repo: Repository | None) -> ScanResult:
    """Suppressions with who added the ignore and in which commit, where git can tell."""
    if repo is None:
        return result
    wanted: dict[str, set[int]] = defaultdict(set)
    for finding in result.suppressed:
        s = finding.suppression
        if s.is_exception and s.line and (repo.root / s.path).is_file():
            wanted[s.path].add(s.line)
    if not wanted:
        return result
    authors = {path: blame(repo.root, path, lines) for path, lines in wanted.items()}

    def enrich(finding: Finding) -> Finding:
        s = finding.suppression
        known = authors.get(s.path, {}).get(s.line) if s and s.line else None
        if not known:
            return finding
        author, commit, date = known
        return dataclasses.replace(finding, suppression=dataclasses.replace(
            s, author=author, commit=commit, date=date))

    return dataclasses.replace(result, findings=tuple(enrich(f) for f in result.findings))
