"""GitHub Actions `${{ }}` expressions: tokenised, context reads extracted, judged by allowlist."""

from __future__ import annotations

import re
from collections.abc import Iterator

# Tokens are searched for, not matched after optional blanks: a leading `\s*` made a long run of
# blanks cost quadratic time. Anything else (blanks, stray characters) is skipped.
_TOKEN = re.compile(
    r"(?P<string>'(?:[^']|'')*')|(?P<number>\d+(?:\.\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*)|(?P<op>==|!=|<=|>=|&&|\|\||[.\[\]()!<>,*])"
)

#: `github.*` values that an outsider cannot shape into shell code.
SAFE_GITHUB = frozenset({
    "action", "action_path", "action_ref", "action_repository", "action_status", "actor",
    "actor_id", "api_url", "base_ref", "env", "event_name", "event_path", "graphql_url", "job",
    "output", "path", "ref", "ref_name", "ref_protected", "ref_type", "repository",
    "repository_id", "repository_owner", "repository_owner_id", "repositoryurl",
    "retention_days", "run_attempt", "run_id", "run_number", "secret_source", "server_url",
    "sha", "state", "token", "triggering_actor", "workflow", "workflow_ref", "workflow_sha",
    "workspace",
})
#: Last segments of `github.event.*` paths that hold numbers, ids, hashes, logins or flags.
SAFE_EVENT_LEAVES = frozenset({
    "number", "id", "node_id", "sha", "before", "after", "action", "login", "draft", "merged",
    "locked", "private", "fork", "size", "additions", "deletions", "changed_files", "state",
    "run_id", "run_number", "run_attempt", "forced", "created", "deleted", "default_branch",
    "type", "site_admin", "author_association", "visibility",
})
_SAFE_EVENT_SUFFIXES = ("_id", "_sha", "_at", "_count", "_url")
#: Whole `github.event.*` paths as safe as `github.ref`: set by people with push access.
_SAFE_EVENT_PATHS = frozenset({"github.event.ref", "github.event.base_ref",
                               "github.event.repository", "github.event.sender"})
_SAFE_EVENT_PREFIXES = ("github.event.repository.", "github.event.pull_request.base.",
                        "github.event.organization.", "github.event.installation.")


def expressions(text: str) -> Iterator[str]:
    """The inner text of each `${{ ... }}` in a string, found in linear time (a regular
    expression retried at each of many unclosed `${{` took quadratic time)."""
    start = text.find("${{")
    while start != -1:
        end = text.find("}}", start + 3)
        if end == -1:
            return
        yield text[start + 3:end]
        start = text.find("${{", end + 2)


def context_reads(expression: str) -> list[str]:
    """Every context path an expression reads, normalised: `github.event.issue.title`,
    `github.event.commits.*.message`; a bracketed string key is read as a dotted one."""
    tokens = [(m.lastgroup, m.group(m.lastgroup)) for m in _TOKEN.finditer(expression)
              if m.lastgroup]
    reads: list[str] = []
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        is_call = i + 1 < len(tokens) and tokens[i + 1] == ("op", "(")
        after_dot = i > 0 and tokens[i - 1] == ("op", ".")
        if kind == "name" and not is_call and not after_dot and value not in ("true", "false",
                                                                               "null"):
            parts, i = [value], i + 1
            while i < len(tokens):
                if tokens[i] == ("op", ".") and i + 1 < len(tokens):
                    nxt = tokens[i + 1]
                    parts.append("*" if nxt == ("op", "*") else nxt[1])
                    i += 2
                elif tokens[i] == ("op", "[") and i + 2 < len(tokens) and tokens[i + 2] == (
                        "op", "]"):
                    inner = tokens[i + 1]
                    parts.append(inner[1][1:-1].replace("''", "'")
                                 if inner[0] == "string" else "*")
                    i += 3
                elif tokens[i] == ("op", "["):
                    parts.append("*")
                    depth, i = 1, i + 1
                    while i < len(tokens) and depth:
                        depth += {("op", "["): 1, ("op", "]"): -1}.get(tokens[i], 0)
                        i += 1
                else:
                    break
            reads.append(".".join(parts))
            continue
        i += 1
    return reads


def is_untrusted(path: str, composite: bool = False, tainted: frozenset[str] = frozenset()) -> bool:
    """True when an outsider may control the text the context path expands to."""
    lowered = path.lower()
    if lowered in tainted or any(lowered.startswith(t + ".") for t in tainted):
        return True
    if lowered.startswith("inputs.") or lowered == "inputs":
        return composite
    if lowered == "github.head_ref":
        return True
    if lowered in ("github", "github.event") or lowered.startswith("github.event."):
        return _event_untrusted(lowered)
    return False


def _event_untrusted(path: str) -> bool:
    if path in ("github", "github.event"):
        return True
    if path in _SAFE_EVENT_PATHS or path.startswith(_SAFE_EVENT_PREFIXES):
        return False
    leaf = path.rsplit(".", 1)[-1]
    return not (leaf in SAFE_EVENT_LEAVES or leaf.endswith(_SAFE_EVENT_SUFFIXES))


def untrusted_in(text: str, composite: bool = False,
                 tainted: frozenset[str] = frozenset()) -> list[str]:
    """Untrusted context paths expanded by the expressions inside `text`, in order, once each.

    Context names are case-insensitive, as GitHub reads them."""
    found: list[str] = []
    for expression in expressions(text):
        for path in context_reads(expression):
            parts = path.lower().split(".")
            if parts[0] == "github" and len(parts) > 1 and parts[1] in SAFE_GITHUB:
                continue
            if is_untrusted(path, composite, tainted) and path.lower() not in (
                    f.lower() for f in found):
                found.append(path)
    return found
