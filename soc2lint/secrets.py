"""Detects literal credentials in parsed data; only redacted descriptions ever leave this module."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})")),
    ("private key", re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("Stripe secret key", re.compile(r"\b[rs]k_live_[A-Za-z0-9]{20,}")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
)

_SECRET_NAME = re.compile(
    r"(?:^|[_\-.])(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|"
    r"secret[_-]?key|private[_-]?key|client[_-]?secret|auth[_-]?token|credentials?)(?:$|[_\-.])",
    re.I,
)
# Names that hold metadata about a secret rather than the secret itself.
_NOT_SECRET_NAME = re.compile(
    r"(?:_|-|\.)(?:arn|id|ids|name|names|length|ttl|version|versions|file|path|ref|type|"
    r"policy|rotation|enabled|required|count|min|max|reset|age|prevention|hash|algorithm|"
    r"expiration|expiry|url|uri|endpoint|key_id|wo_version|key_vault_id|secret_id)$"
    r"|^(?:kms_key|key_name|token_type|secret_name|password_policy)$",
    re.I,
)
_PLACEHOLDER = re.compile(
    r"^\s*$|^\$\{|^\$\(|^<.*>$|^\{\{.*\}\}$|^\*+$|^(?:x+|null|none|changeme-in-ci)$", re.I
)


@dataclass(frozen=True)
class SecretHit:
    path: tuple
    kind: str
    redacted: str

    def as_data(self) -> dict:
        return {"path": ".".join(str(p) for p in self.path), "kind": self.kind,
                "redacted": self.redacted}


def shape_of(value: str) -> tuple[str, str] | None:
    """(kind, redacted) when the value has a known credential shape."""
    for kind, pattern in _SHAPES:
        match = pattern.search(value)
        if match:
            return kind, f"{kind} {match.group(0)[:4]}…"
    return None


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def is_secret_name(name: str) -> bool:
    """`db_password`, `DB-PASSWORD`, `dbPassword`; not `password_length` or `secret_arn`."""
    snake = _CAMEL.sub("_", name)
    return bool(_SECRET_NAME.search(snake)) and not _NOT_SECRET_NAME.search(snake)


def find_secrets(pairs: Iterable[tuple[tuple, str, object]]) -> list[SecretHit]:
    """Scan (path, key name, value) triples; literal strings only."""
    hits: list[SecretHit] = []
    for path, name, value in pairs:
        if not isinstance(value, str) or not value.strip():
            continue
        shape = shape_of(value)
        if shape:
            hits.append(SecretHit(path, shape[0], shape[1]))
        elif is_secret_name(name) and len(value) >= 4 and not _PLACEHOLDER.search(value):
            hits.append(SecretHit(path, f"literal {name}", f"literal value of '{name}' (redacted)"))
    return hits


# -- credentials in URLs -----------------------------------------------------------------------
_URL_PREFIX = re.compile(r"^(?P<getter>[A-Za-z][\w.+-]*::)?(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)?")
_DIGEST_AT = re.compile(r"@[A-Za-z][A-Za-z0-9]*(?:[+._-][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}")
_HOST = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[^\s/?#@:\[\]]*)(?::\d*)?")
_NAMED_HOST = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|localhost|[\w-]+(?:\.[\w-]+)+)(?::\d*)?(?=[/?#:]|$)")
_QUERY_SECRET = re.compile(
    r"(?<=[?&])(?P<name>sshkey|sig|[^=&#]*(?:token|secret|password|passwd|signature|credential|access_key)[^=&#]*)"
    r"=[^&#]*", re.I)


def without_credentials(url: str) -> str:
    """`url` as it may be shown: user name and password removed; host, path and query kept.

    Covers Terraform module sources (`git::https://user:token@host/org/mod.git?ref=v1`,
    `git+https://…`, `s3::https://…`), `docker://user:pass@host/image`, and passwords holding a
    raw `/`, `@` or `:`, or percent-encoded. Credential query values (go-getter's `sshkey` and
    `aws_access_key_*`, `…token…`, signed-URL signatures) become `…`. Without a scheme (scp-like
    `git@github.com:org/repo`, an image reference) a user name alone is an account, not a secret
    (ssh authenticates by key), and stays; a password never does.
    """
    prefix = _URL_PREFIX.match(url)
    head, rest = url[:prefix.end()], url[prefix.end():]
    at = _userinfo_end(rest)
    if at is not None and (prefix.group("scheme") or not _is_account(rest[:at])):
        rest = rest[at + 1:]
    return head + _QUERY_SECRET.sub(lambda m: f"{m.group('name')}=…", rest)


def _userinfo_end(rest: str) -> int | None:
    """The position of the `@` ending the user info of `rest` (what follows `scheme://`)."""
    digests = {m.start() for m in _DIGEST_AT.finditer(rest)}  # `image@sha256:…` is no user info
    ats = [i for i, char in enumerate(rest) if char == "@" and i not in digests]
    slash = next((i for i, char in enumerate(rest) if char in "/?#"), len(rest))
    query = next((i for i, char in enumerate(rest) if char in "?#"), len(rest))
    inside = [i for i in ats if i < slash]
    if inside and _NAMED_HOST.match(rest, inside[-1] + 1):
        return inside[-1]
    # a raw `/` in the password: the user info ends at the last `@` before a host name
    beyond = [i for i in ats if slash <= i < query]
    if beyond and (inside or not _HOST.fullmatch(rest[:slash])):
        named = [i for i in beyond if _NAMED_HOST.match(rest, i + 1)]
        if named or not inside:
            return (named or beyond)[-1]
    return inside[-1] if inside else None


def _is_account(user: str) -> bool:
    """A bare user name such as `git`: no password, no token shape."""
    return ":" not in user and "/" not in user and shape_of(user) is None
