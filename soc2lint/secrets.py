"""Finds credentials in the values soc2lint reads, with detect-secrets' detectors; only redacted
descriptions ever leave this module.

A string value is a secret when:

- a detect-secrets token detector recognises it, whatever it is called (AWS keys, private keys,
  GitHub, GitLab, Slack, Stripe, Twilio, SendGrid, npm and PyPI tokens, JWTs, a password in a URL
  and the rest of its regular-expression plugins; two more of the same kind below);
- it is written in an argument that holds a credential (`bearing`: the provider table in
  `data/secret_arguments.yaml`, or a name that says password);
- its name is secret-like and detect-secrets' entropy plugins find it random (base64 above 4.5
  bits per character, hex above 3): entropy is used only where a name gives the context.

Text that is a file (a `user_data` script, a configuration file in a ConfigMap) is read line by
line with the token detectors and detect-secrets' keyword detector. Placeholders are not
secrets: detect-secrets' heuristic filters (templated, `$`-prefixed, sequential, UUID, no
letters or digits) and booleans.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

# A secret-like name (the keyword context for entropy): matched on the name's words, so that
# `author`, `bypass` and `oauth_issuer` are not, and `dbPassword` and `API-KEY` are.
_SECRET_WORD = re.compile(
    r"(?:^|_)(?:\w*(?:password|passwd|passphrase|pwd|secret|token|credential)s?|pass|auth|"
    r"api_?keys?|apikeys?|private_?keys?|signing_?keys?|connection_?strings?)(?:_|$)")
_PASSWORD_WORD = re.compile(r"(?:^|_)\w*(?:password|passwd|passphrase|pwd)s?(?:_|$)|(?:^|_)pass(?:_|$)")
# Names that hold something about a secret rather than the secret itself.
_ABOUT_A_SECRET = re.compile(
    r"_(?:arn|id|ids|name|names|length|ttl|version|versions|file|path|ref|type|policy|rotation|"
    r"enabled|required|count|min|max|reset|age|prevention|hash|algorithm|expiration|expiry|url|"
    r"uri|endpoint|key_id|wo_version|key_vault_id|secret_id|audience|issuer|header|prefix|"
    r"format|field|mode|method|source|location|selector|store|provider|duration|period|"
    r"days|seconds|minutes|hours|size|bits|backend|mount|role|user|username|scope|scopes|"
    r"expression|schedule|interval|window|hint|description|label|template|reference|rules|"
    r"settings|options|config|configuration|complexity|strength|retention|validity|enforcement)$"
    r"|^(?:kms_key|key_name|token_type|secret_name|password_policy|auth_type|auth_method|"
    r"auth_mode|authentication|authorization)$")
_WORD_BREAK = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|[^A-Za-z0-9]+")
_BOOLEAN = frozenset({"true", "false", "yes", "no", "on", "off", "enabled", "disabled", "none",
                      "null", "nil", "required", "optional"})
# What may be shown of a token: the public prefix that names its kind, never a character more.
_PUBLIC_PREFIX = re.compile(
    r"^(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9]|gh[pousr]_|github_pat_|glpat-|xox[a-z]-|[rs]k_live_|"
    r"AIza|SG\.|npm_|pypi-|sk-|eyJ|SK)")
_SHORTEST_TOKEN = 8  # no detector matches less


@dataclass(frozen=True)
class SecretHit:
    path: tuple
    kind: str
    redacted: str

    def as_data(self) -> dict:
        return {"path": ".".join(str(p) for p in self.path), "kind": self.kind,
                "redacted": self.redacted}


def words(name: str) -> str:
    """`dbPassword`, `DB-PASSWORD`, `db.password` -> `db_password`."""
    return "_".join(w for w in _WORD_BREAK.split(name) if w).lower()


def is_secret_name(name: str) -> bool:
    """`db_password`, `DB-PASSWORD`, `dbPassword`, `API_TOKEN`; not `password_length`,
    `secret_arn` or `author`."""
    snake = words(name)
    return bool(_SECRET_WORD.search(snake)) and not _ABOUT_A_SECRET.search(snake)


def is_password_name(name: str) -> bool:
    """A name that says password: whatever is written there is one, random or not."""
    snake = words(name)
    return bool(_PASSWORD_WORD.search(snake)) and not _ABOUT_A_SECRET.search(snake)


@lru_cache(maxsize=1)
def _detectors() -> tuple:
    """detect-secrets' token detectors (imported on first use: it costs a tenth of a second)."""
    from detect_secrets.plugins.artifactory import ArtifactoryDetector
    from detect_secrets.plugins.aws import AWSKeyDetector
    from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
    from detect_secrets.plugins.base import RegexBasedDetector
    from detect_secrets.plugins.basic_auth import BasicAuthDetector
    from detect_secrets.plugins.cloudant import CloudantDetector
    from detect_secrets.plugins.discord import DiscordBotTokenDetector
    from detect_secrets.plugins.github_token import GitHubTokenDetector
    from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
    from detect_secrets.plugins.ibm_cloud_iam import IbmCloudIamDetector
    from detect_secrets.plugins.ibm_cos_hmac import IbmCosHmacDetector
    from detect_secrets.plugins.jwt import JwtTokenDetector
    from detect_secrets.plugins.mailchimp import MailchimpDetector
    from detect_secrets.plugins.npm import NpmDetector
    from detect_secrets.plugins.openai import OpenAIDetector
    from detect_secrets.plugins.private_key import PrivateKeyDetector
    from detect_secrets.plugins.pypi_token import PypiTokenDetector
    from detect_secrets.plugins.sendgrid import SendGridDetector
    from detect_secrets.plugins.slack import SlackDetector
    from detect_secrets.plugins.softlayer import SoftlayerDetector
    from detect_secrets.plugins.square_oauth import SquareOAuthDetector
    from detect_secrets.plugins.stripe import StripeDetector
    from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
    from detect_secrets.plugins.twilio import TwilioKeyDetector

    class GoogleApiKeyDetector(RegexBasedDetector):
        """Google Cloud API keys, which detect-secrets 1.5 has no plugin for."""

        secret_type = "Google API Key"
        denylist = (re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),)

    class GitHubFineGrainedTokenDetector(RegexBasedDetector):
        """GitHub fine-grained personal access tokens (`github_pat_`), which its GitHub plugin
        does not know."""

        secret_type = "GitHub Token"
        denylist = (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{40,}"),)

    plugins = (AWSKeyDetector, PrivateKeyDetector, GitHubTokenDetector, GitHubFineGrainedTokenDetector,
               GitLabTokenDetector, SlackDetector, StripeDetector, TwilioKeyDetector, SendGridDetector,
               JwtTokenDetector, BasicAuthDetector, GoogleApiKeyDetector, AzureStorageKeyDetector,
               ArtifactoryDetector, DiscordBotTokenDetector, MailchimpDetector, NpmDetector,
               OpenAIDetector, PypiTokenDetector, SquareOAuthDetector, TelegramBotTokenDetector,
               IbmCloudIamDetector, IbmCosHmacDetector, CloudantDetector, SoftlayerDetector)
    return tuple(plugin() for plugin in plugins)


@lru_cache(maxsize=1)
def _entropy_plugins() -> tuple:
    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString, HexHighEntropyString

    return Base64HighEntropyString(), HexHighEntropyString()


@lru_cache(maxsize=1)
def _keyword_detector():
    from detect_secrets.plugins.keyword import CONFIG_DENYLIST_REGEX_TO_GROUP, KeywordDetector

    return KeywordDetector(), CONFIG_DENYLIST_REGEX_TO_GROUP


@lru_cache(maxsize=1)
def _heuristic_filters() -> tuple:
    """detect-secrets' filters for values that are not secrets, imported once."""
    from detect_secrets.filters.heuristic import (
        is_not_alphanumeric_string,
        is_potential_uuid,
        is_prefixed_with_dollar_sign,
        is_sequential_string,
        is_templated_secret,
    )

    return (is_templated_secret, is_prefixed_with_dollar_sign, is_sequential_string,
            is_potential_uuid, is_not_alphanumeric_string)


def is_placeholder(value: str) -> bool:
    """Not a secret whatever its name: detect-secrets' heuristic filters, and booleans."""
    text = value.strip()
    return (len(text) < 2 or text.lower() in _BOOLEAN or any(f(text) for f in _heuristic_filters())
            or set(text.lower()) <= {"x", "*", "-"})


@lru_cache(maxsize=1 << 16)
def shape_of(value: str) -> tuple[str, str] | None:
    """(kind, redacted) when a token detector recognises something in the value."""
    if len(value) < _SHORTEST_TOKEN:
        return None
    for plugin in _detectors():
        for match in plugin.analyze_string(value):
            if match and not is_placeholder(match):
                return plugin.secret_type, _redacted(plugin.secret_type, match)
    return None


def _redacted(kind: str, match: str) -> str:
    prefix = _PUBLIC_PREFIX.match(match)
    if kind == "Basic Auth Credentials":
        return "a password in a URL (redacted)"
    return f"{kind} {prefix.group(0)}…" if prefix else f"{kind} (redacted)"


@lru_cache(maxsize=1 << 16)
def is_random(value: str) -> bool:
    """detect-secrets' entropy judgement of the value's longest base64 or hex run."""
    for plugin in _entropy_plugins():
        with plugin.non_quoted_string_regex(is_exact_match=False):
            runs = list(plugin.analyze_string(value))
        if any(len(run) >= _SHORTEST_TOKEN and plugin.calculate_shannon_entropy(run) > plugin.entropy_limit
               for run in runs):
            return True
    return False


def judge(name: str, value: object, bearing: bool = False,
          password_names: bool = True) -> tuple[str, str] | None:
    """(kind, redacted) when the string `value`, written under `name`, is a credential. A JSON
    document is judged by its values, under their own names; in an argument that holds a
    credential, any value in it that is not a placeholder is one. Without `password_names`, a
    name that says password needs a random value too (a CI job's throwaway database password)."""
    if not isinstance(value, str):
        return None
    document = _document(value)
    if document is not None:
        leaves = [(n, v) for _, n, v in string_leaves(document)]
        if bearing and any(not is_placeholder(v) for _, v in leaves):
            return f"literal {name}", f"literal value of '{name}' (redacted)"
        return next((found for n, v in leaves if (found := judge(n, v, False, password_names))
                     is not None), None)
    if is_placeholder(value):
        return None
    shape = shape_of(value)
    if shape is not None:
        return shape
    if bearing or (password_names and is_password_name(name)):
        return f"literal {name}", f"literal value of '{name}' (redacted)"
    if is_secret_name(name) and is_random(value):
        return f"random value of {name}", f"random-looking value of '{name}' (redacted)"
    return None


def _document(value: str) -> dict | list | None:
    """The JSON object or array a string holds, if it is one."""
    text = value.strip()
    if not text.startswith(("{", "[")):
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document if isinstance(document, dict | list) else None


def find_secrets(pairs: Iterable[tuple[tuple, str, object]],
                 bearing: Callable[[tuple], bool] = lambda path: False,
                 password_names: bool = True) -> list[SecretHit]:
    """Judge (path, name, value) triples; `bearing(path)` says the argument holds a credential."""
    hits: list[SecretHit] = []
    for path, name, value in pairs:
        found = judge(name, value, bearing(path), password_names)
        if found is not None:
            hits.append(SecretHit(path, *found))
    return hits


def find_in_text(text: str, path: tuple, what: str = "text", keywords: bool = True) -> list[SecretHit]:
    """Secrets in a file's text (a script, a configuration file), one hit per line at most; with
    `keywords`, a literal assigned to a secret-like name too (detect-secrets' keyword detector)."""
    hits: list[SecretHit] = []
    keyword, patterns = _keyword_detector()
    for number, line in enumerate(text.splitlines(), 1):
        if len(line) > 4000:
            continue  # a minified blob: the detectors' patterns are not built for it
        shape = shape_of(line)
        if shape is None and keywords:
            values = [v for v in keyword.analyze_string(line, denylist_regex_to_group=patterns)
                      if v and not is_placeholder(v)]
            shape = ("Secret Keyword", "a credential assigned to a secret-like name (redacted)") \
                if values else None
        if shape is not None:
            hits.append(SecretHit(path, shape[0], f"{shape[1]} on line {number} of {what}"))
    return hits


def decoded_base64(value: str) -> str | None:
    """The UTF-8 text a base64 string holds (`user_data_base64`, a `base64encode(...)` result)."""
    compact = "".join(value.split())
    if len(compact) < 8 or len(compact) % 4 or not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", compact):
        return None
    try:
        return base64.b64decode(compact, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def string_leaves(data: object, prefix: tuple = (), name: str = "") -> Iterator[tuple[tuple, str, str]]:
    """(path, name, value) of every string in nested data; a list item is named by its list, and
    the `value` of a `{name, value}` pair (an environment variable, a Helm `set`) by its `name`,
    unless the pair says its value is a reference (CodeBuild's `type = "SECRETS_MANAGER"`)."""
    if isinstance(data, dict):
        pair_name = data.get("name") if isinstance(data.get("name"), str) and \
            data.get("type", "PLAINTEXT") == "PLAINTEXT" else None
        for key, value in data.items():
            yield from string_leaves(value, (*prefix, key), pair_name if key == "value" and pair_name
                                     else str(key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from string_leaves(value, (*prefix, index), name)
    elif isinstance(data, str):
        yield prefix, name, data


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
