"""CODEOWNERS as GitHub reads it: its rules, the lines GitHub rejects, and who owns a path.

Matching is the `codeowners` package's (a port of the matcher OpenSSF Scorecard uses): gitignore
patterns with GitHub's differences, `docs/*` not matching nested files, and the last matching
line winning. This module adds what GitHub checks and that package lets through: a line using
`!` negation, a `[ ]` character range or a `\\#` escape is invalid and ignored; an owner must be
`@user`, `@org/team` or an email address, and a line with an invalid owner is ignored too. A
line with no owners is valid: it leaves the paths it matches without an owner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from codeowners import CodeOwners as _Matcher

_USER = re.compile(r"@[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
_TEAM = re.compile(r"@[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/[A-Za-z0-9][A-Za-z0-9_.-]*")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_ESCAPED_SPACE = re.compile(r"\\ ")
_INLINE_COMMENT = re.compile(r"\s+#")


@dataclass(frozen=True)
class Rule:
    line: int
    pattern: str
    owners: tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


@dataclass(frozen=True)
class Codeowners:
    """A parsed CODEOWNERS file: the rules GitHub applies and the lines it rejects."""

    path: str
    rules: tuple[Rule, ...]
    problems: tuple[Problem, ...] = field(default=())

    @cached_property
    def _matcher(self) -> _Matcher:
        # the valid lines only, at their own line numbers
        lines = [""] * max((r.line for r in self.rules), default=0)
        for rule in self.rules:
            lines[rule.line - 1] = " ".join((rule.pattern, *rule.owners))
        return _Matcher("\n".join(lines))

    def owners_of(self, path: str) -> tuple[str, ...] | None:
        """The owners of a repository path (`a/b.tf`); `()` when the last matching line has no
        owners, None when no line matches."""
        owners, line, _, _ = self._matcher.matching_line(path.lstrip("/"))
        return None if line is None else tuple(owner for _, owner in owners)

    def rule_for(self, path: str) -> Rule | None:
        """The line that decides who owns `path`."""
        _, line, _, _ = self._matcher.matching_line(path.lstrip("/"))
        return next((r for r in self.rules if r.line == line), None)


def parse(path: str, text: str) -> Codeowners:
    """The rules and problems of a CODEOWNERS file's text."""
    rules: list[Rule] = []
    problems: list[Problem] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = _INLINE_COMMENT.split(raw.strip(), maxsplit=1)[0]
        if not line or line.startswith("#"):
            continue
        words = _ESCAPED_SPACE.sub("\0", line).split()
        pattern, owners = words[0].replace("\0", "\\ "), words[1:]
        problem = _pattern_problem(pattern) or next(
            (f"'{o}' is not a user (@name), a team (@org/team) or an email address" for o in owners
             if not _is_owner(o)), None)
        if problem:
            problems.append(Problem(number, problem))
        else:
            rules.append(Rule(number, pattern, tuple(owners)))
    return Codeowners(path, tuple(rules), tuple(problems))


def _pattern_problem(pattern: str) -> str | None:
    if pattern.startswith("!"):
        return f"'{pattern}': GitHub does not support negating a pattern with '!'"
    if pattern.startswith("\\#"):
        return f"'{pattern}': GitHub does not support escaping a leading '#'"
    if "[" in pattern or "]" in pattern:
        return f"'{pattern}': GitHub does not support character ranges with '[ ]'"
    return None


def _is_owner(owner: str) -> bool:
    return any(p.fullmatch(owner) for p in (_USER, _TEAM, _EMAIL))


__all__ = ["Codeowners", "Problem", "Rule", "parse"]
