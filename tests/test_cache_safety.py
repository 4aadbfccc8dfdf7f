"""The parse and grammar caches hold data only: nothing planted in a cache directory runs, any bad
entry is a miss (scans keep the findings of an uncached scan), and a cache directory other users
may write to is not used."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import pickle
import random
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import git_init, write

from soc2lint.discovery import discover
from soc2lint.parsers import terraform
from soc2lint.parsers.cache import ParseCache
from soc2lint.parsers.terraform import parse_file
from soc2lint.report import render
from soc2lint.scan import scan

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ["aws-sg-admin-ports-open", "aws-iam-policy-full-admin", "aws-s3-versioning"]

# Every kind of expression node the parser produces, and literals, heredocs and escapes.
MAIN_TF = r'''variable "env" {
  default = "prod"
}

locals {
  names   = ["a", "b"]
  tags    = { Team = "x", "Env" = var.env, (var.env) = 1, a.b = 2 }
  heredoc = <<-EOT
    hello ${var.env} $${not}
  EOT
  cond    = var.env == "prod" ? true : false
  neg     = -1
  inv     = !true
  arith   = (1 + 2) * 3 % 2 - 4 / 5
  float   = 1.5e3
  splat   = aws_s3_bucket.logs[*].id
  splat2  = aws_s3_bucket.logs.*.arn
  idx     = local.names[0]
  dotidx  = local.names.1
  for_t   = [for n in local.names : upper(n) if n != ""]
  for_o   = { for k, v in local.tags : k => v... }
  call    = merge(local.tags, { a = 1 })
  expand  = concat(local.names...)
  tmpl    = "pre-${var.env}-%{ if true }x%{ endif }"
  esc     = "$${literal} \u00e9 \n"
  prov    = provider::aws::arn_parse("arn:aws:s3:::x")
  nul     = null
}

resource "aws_s3_bucket" "logs" {
  bucket = "logs-${var.env}"
  dynamic "grant" {
    for_each = local.names
    content {
      permission = grant.value
    }
  }
}

resource "aws_db_instance" "db" {
  engine              = "postgres"
  storage_encrypted   = local.cond == false
  publicly_accessible = var.env == "prod"
}
'''

EXTRA_TF_JSON = '''{
  "resource": {
    "aws_db_instance": {
      "json_db": {"engine": "postgres", "storage_encrypted": false, "tags": {"a": [1, 2.5, null]}}
    },
    "aws_s3_bucket": [{"b2": {"bucket": "x-${var.env}"}}]
  }
}
'''


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    """A repository with native and JSON-syntax Terraform, and its own cache directory."""
    root = tmp_path / "repo"
    git_init(root)
    files = {"main.tf": MAIN_TF, "extra.tf.json": EXTRA_TF_JSON}
    for rule in FIXTURES:
        files[f"{rule}/main.tf"] = (ROOT / "fixtures" / "terraform" / rule / "fail.tf").read_text()
    write(root, files)
    monkeypatch.chdir(root)
    monkeypatch.setenv("SOC2LINT_CACHE_DIR", str(tmp_path / "cache"))
    return root


@pytest.fixture(autouse=True)
def _no_earlier_notices():
    from soc2lint.parsers import cache

    getattr(cache, "take_notices", list)()


@pytest.fixture
def fresh_parser():
    """hcl_parser() loads the grammar tables again (from the cache directory of the moment)."""
    terraform.hcl_parser.cache_clear()
    yield terraform.hcl_parser
    terraform.hcl_parser.cache_clear()


def _scan(root: Path, rules) -> tuple:
    result = scan(discover([str(root)]), rules)
    return _outcomes(result), result


def _outcomes(result) -> tuple:
    findings = sorted((f.rule.id, f.path, f.span.line, f.span.column, f.status, f.message)
                      for f in result.findings)
    return tuple(findings), tuple((n.path, n.message) for n in result.notifications)


def _uncached(root: Path, rules, monkeypatch) -> tuple:
    with monkeypatch.context() as patch:
        patch.setenv("SOC2LINT_NO_CACHE", "1")
        return _scan(root, rules)[0]


def _entries(cache: Path) -> dict[Path, bytes]:
    """The parse cache's entry files (the grammar's tables sit at the top of the directory)."""
    return {p: p.read_bytes() for p in sorted(cache.glob("tf-*/*/*")) if p.is_file()}


def _evil_pickle(marker: Path) -> bytes:
    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {shlex.quote(str(marker))}",)

    return pickle.dumps(Evil())


def test_a_pickle_planted_in_the_parse_cache_never_runs(repo, tmp_path, all_rules, monkeypatch):
    expected = _uncached(repo, all_rules, monkeypatch)
    assert _scan(repo, all_rules)[0] == expected
    entries = _entries(tmp_path / "cache")
    assert len(entries) == 5
    marker = tmp_path / "pwned"
    for path in entries:
        path.write_bytes(_evil_pickle(marker))
    assert _scan(repo, all_rules)[0] == expected
    assert not marker.exists(), "a cache entry ran code"


GRAMMAR_PROBE = 'locals {\n  a = "x-${var.y}"\n  b = { for k, v in m : k => v if v != null }\n}\n'


@pytest.fixture(scope="module")
def grammar_entry(tmp_path_factory) -> tuple[str, bytes]:
    """The grammar's tables as a first run stores them (built once for this module)."""
    folder = tmp_path_factory.mktemp("grammar")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOC2LINT_CACHE_DIR", str(folder))
        terraform.hcl_parser.cache_clear()
        try:
            terraform.hcl_parser()
        finally:
            terraform.hcl_parser.cache_clear()
    (entry,) = [p for p in folder.iterdir() if p.is_file()]
    return entry.name, entry.read_bytes()


def _load_grammar(folder: Path, name: str, data: bytes | None, monkeypatch):
    """The parser a new run gets when its cache directory holds `data` under the entry's name."""
    folder.mkdir(exist_ok=True)
    if data is not None:
        (folder / name).write_bytes(data)
    monkeypatch.setenv("SOC2LINT_CACHE_DIR", str(folder))
    terraform.hcl_parser.cache_clear()
    return terraform.hcl_parser()


def test_the_grammar_cache_holds_data_and_a_planted_pickle_never_runs(tmp_path, monkeypatch,
                                                                       grammar_entry, fresh_parser):
    name, data = grammar_entry
    header, payload = data.split(b"\n")  # two lines of JSON: data only
    assert json.loads(header)["soc2lint"] == "grammar" and json.loads(payload)
    expected = terraform.hcl_parser().parse(GRAMMAR_PROBE)
    marker = tmp_path / "pwned"
    planted = b"header line\n" + _evil_pickle(marker) + _evil_pickle(marker)
    parser = _load_grammar(tmp_path / "cache", name, planted, monkeypatch)
    assert parser.parse(GRAMMAR_PROBE) == expected
    assert not marker.exists(), "the grammar cache ran code"


@pytest.mark.parametrize("damage", ["truncate", "flip", "wrong-shape", "directory"])
def test_a_bad_grammar_entry_is_rebuilt(tmp_path, monkeypatch, grammar_entry, fresh_parser, damage):
    name, data = grammar_entry
    assert json.loads(data.split(b"\n")[0])["soc2lint"] == "grammar"
    expected = terraform.hcl_parser().parse(GRAMMAR_PROBE)
    rng = random.Random(damage)
    if damage == "directory":
        (tmp_path / "cache" / name).mkdir(parents=True)
        bad = None
    elif damage == "truncate":
        bad = data[:rng.randrange(len(data))]
    elif damage == "flip":
        bad = _flip(data, rng)
    else:
        bad = _with_payload(data, rng.choice([b"[]", b'{"data": {}, "memo": {}}', b'{"\\u0000t": 1}',
                                              b'{"data": {"options": {"postlex": 1}}, "memo": {}}']))
    assert _load_grammar(tmp_path / "cache", name, bad, monkeypatch).parse(GRAMMAR_PROBE) == expected
    if damage != "directory":  # the rebuilt tables were stored again
        assert (tmp_path / "cache" / name).read_bytes() != bad


def _flip(data: bytes, rng: random.Random) -> bytes:
    """1 to 4 bytes changed, at distinct places."""
    out = bytearray(data)
    for place in rng.sample(range(len(out)), rng.randint(1, 4)):
        out[place] ^= rng.randint(1, 255)
    return bytes(out)


def _with_payload(entry: bytes, payload: bytes, **header_changes) -> bytes:
    """An entry whose header vouches for `payload` (its digest matches)."""
    header = json.loads(entry.split(b"\n")[0])
    header.update(sha256=hashlib.sha256(payload).hexdigest(), **header_changes)
    return json.dumps(header).encode() + b"\n" + payload


def test_damaged_parse_entries_are_misses_and_scans_keep_their_findings(repo, tmp_path, all_rules,
                                                                        monkeypatch):
    expected = _uncached(repo, all_rules, monkeypatch)
    _scan(repo, all_rules)
    entries = _entries(tmp_path / "cache")
    keys = {path: path.stem for path in entries}
    tag_dir = next(iter(entries)).parent.parent
    marker = tmp_path / "pwned"
    rng = random.Random(2024)
    for _ in range(12):
        _restore(entries)
        damaged = {path: _damage_entry(path, entries, rng, marker) for path in entries}
        probe = ParseCache(tag_dir)
        assert [probe.get(keys[p]) for p in entries] == [None] * len(entries), damaged
        assert _scan(repo, all_rules)[0] == expected, damaged
    assert not marker.exists()


def _restore(entries: dict[Path, bytes]) -> None:
    for path, data in entries.items():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        path.write_bytes(data)


def _damage_entry(path: Path, entries: dict[Path, bytes], rng: random.Random, marker: Path) -> str:
    """Damage one entry at random; returns how."""
    data = entries[path]
    how = rng.choice(["truncate", "flip", "json", "pickle", "directory", "other-key", "empty",
                      "symlink"])
    if how in ("directory", "symlink"):
        path.unlink()
        if how == "directory":
            (path / "inside").mkdir(parents=True)
        else:
            path.symlink_to(next(p for p in entries if p != path))
        return how
    other = next(d for p, d in entries.items() if p != path)
    path.write_bytes({
        "truncate": lambda: data[:rng.randrange(len(data))],
        "flip": lambda: _flip(data, rng),
        "json": lambda: rng.choice([b"[]", b"{}", b"null", b'"x"', b"[1, 2, 3, 4, 5]",
                                    json.dumps({"key": path.stem}).encode()]),
        "pickle": lambda: _evil_pickle(marker),
        "other-key": lambda: other,
        "empty": lambda: b"",
    }[how]())
    return how


def _parse_entry(tmp_path: Path, name: str, text: str) -> tuple[ParseCache, str, Path]:
    """A cache holding the parse of one file, its key and the entry's file."""
    cache = ParseCache(tmp_path / "cache")
    key = ParseCache.key("json" if name.endswith(".json") else "hcl", text)
    cache.put(key, parse_file(name, text))
    (path,) = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    return cache, key, path


@pytest.mark.parametrize("change", [
    "empty-list", "object", "span-of-strings", "object-in-expression", "label-not-a-string",
    "unknown-yaml-tag", "locator-out-of-range", "other-format", "other-kind", "other-key"])
def test_entries_that_check_out_but_hold_the_wrong_shape_are_misses(tmp_path, change):
    name, text = ("extra.tf.json", EXTRA_TF_JSON) if "yaml" in change or "locator" in change \
        else ("main.tf", MAIN_TF)
    cache, key, path = _parse_entry(tmp_path, name, text)
    entry = path.read_bytes()
    assert cache.get(key) == parse_file(name, text)
    payload = json.loads(entry.split(b"\n")[1])
    header_changes: dict = {}
    if change == "empty-list":
        payload = []
    elif change == "object":
        payload = {"path": name}
    elif change == "span-of-strings":
        payload[4][0][2] = ["1", "1", "1", "1"]
    elif change == "object-in-expression":
        attributes = payload[4][1][3][0]
        attributes[next(iter(attributes))][0][2] = {"lit": 1}
    elif change == "label-not-a-string":
        payload[4][0][1] = [7]
    elif change == "unknown-yaml-tag":
        payload[3][0] = {"python/object": [[1, 1, 1, 1], []]}
    elif change == "locator-out-of-range":
        payload[4][0][4][0] = 9
    else:
        header_changes = {"other-format": {"format": 99}, "other-kind": {"soc2lint": "grammar"},
                          "other-key": {"key": "0" * 64}}[change]
    path.write_bytes(_with_payload(entry, json.dumps(payload).encode(), **header_changes))
    assert cache.get(key) is None
    assert (cache.hits, cache.misses) == (1, 1)


def test_entries_are_json_and_rebuild_the_same_parse(tmp_path):
    for name, text in (("main.tf", MAIN_TF), ("extra.tf.json", EXTRA_TF_JSON)):
        cache, key, path = _parse_entry(tmp_path / name, name, text)
        header, payload = path.read_bytes().split(b"\n")
        assert json.loads(header)["key"] == key and json.loads(payload)
        parsed, cached = parse_file(name, text), cache.get(key)
        assert cached == parsed
        for block, again in zip(parsed.blocks, cached.blocks, strict=True):
            assert (block.locator is None) == (again.locator is None)
            for attribute in block.body.attributes if block.locator else ():
                assert again.locator.span((attribute,)) == block.locator.span((attribute,))
        assert (cache.hits, cache.misses) == (1, 0)


@pytest.mark.parametrize("value", [datetime.date(2024, 1, 1), {1, 2}, ("a", "tuple"), b"bytes"])
def test_values_outside_the_allow_list_are_not_stored(tmp_path, value):
    parsed = parse_file("x.tf.json", EXTRA_TF_JSON)
    parsed.blocks[0].body.attributes["engine"].expression = {"v": [value]}
    cache = ParseCache(tmp_path / "cache")
    cache.put("k" * 64, parsed)
    assert cache.get("k" * 64) is None
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]


def test_a_fifo_entry_does_not_hang_the_scan(repo, tmp_path, all_rules, monkeypatch, grammar_entry):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    expected = _uncached(repo, all_rules, monkeypatch)
    _scan(repo, all_rules)
    (tmp_path / "cache" / grammar_entry[0]).write_bytes(grammar_entry[1])
    for path in _entries(tmp_path / "cache"):
        path.unlink()
        os.mkfifo(path)
    command = [sys.executable, "-c", "from soc2lint.cli import main; main()", "scan", str(repo),
               "-f", "json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=os.environ)
    assert "Traceback" not in done.stderr and done.returncode == 1, done.stderr
    assert len(json.loads(done.stdout)["results"]) == len(expected[0])


def _files(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_cache_directory_others_may_write_to_is_neither_read_nor_written(
        repo, tmp_path, all_rules, monkeypatch, fresh_parser):
    expected = _uncached(repo, all_rules, monkeypatch)
    monkeypatch.setenv("SOC2LINT_CACHE_DIR", str(tmp_path / "private"))
    tag = ParseCache.default().directory.name
    shared = tmp_path / "shared"  # holds a planted parse of main.tf without its resources
    ParseCache(shared / tag).put(ParseCache.key("hcl", MAIN_TF), parse_file("main.tf", "\n"))
    shared.chmod(0o777)
    planted = _files(shared)
    assert len(planted) == 1
    fresh_parser.cache_clear()
    monkeypatch.setenv("SOC2LINT_CACHE_DIR", str(shared))
    outcomes, result = _scan(repo, all_rules)
    assert outcomes == expected, "the cache was read"
    assert _files(shared) == planted, "the cache was written"
    from soc2lint.parsers.cache import take_notices

    notices = take_notices()
    assert len(notices) == 1 and str(shared) in notices[0] and "other users may write" in notices[0]
    _scan(repo, all_rules)
    assert take_notices() == []  # told once
    for fmt in ("text", "json", "sarif"):
        assert str(tmp_path) not in render(fmt, result)


def test_an_entry_subdirectory_others_may_write_to_is_not_used(tmp_path):
    key = ParseCache.key("hcl", MAIN_TF)
    _, _, entry = _parse_entry(tmp_path / "private", "main.tf", MAIN_TF)
    folder = tmp_path / "cache" / key[:2]
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    shutil.copy(entry, folder / entry.name)
    cache = ParseCache(tmp_path / "cache")
    assert cache.get(key) is None, "an entry was read"
    cache.put(key, parse_file("main.tf", MAIN_TF))
    assert _files(folder) == {folder / entry.name: entry.read_bytes()}
    from soc2lint.parsers.cache import take_notices

    assert [str(folder) in n and "other users may write" in n for n in take_notices()] == [True]


def test_a_cache_directory_of_another_user_is_not_used_and_windows_has_no_owner(
        repo, tmp_path, all_rules, monkeypatch):
    if not hasattr(os, "getuid"):
        pytest.skip("no user ids here")
    expected = _uncached(repo, all_rules, monkeypatch)
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    monkeypatch.setenv("SOC2LINT_CACHE_DIR", str(theirs))
    someone_else = os.getuid() + 1
    with monkeypatch.context() as patch:
        patch.setattr(os, "getuid", lambda: someone_else)
        assert _scan(repo, all_rules)[0] == expected
    assert os.listdir(theirs) == [], "the cache was used"
    from soc2lint.parsers.cache import take_notices

    assert ["another user" in n for n in take_notices()] == [True]
    # Windows: no uid, and mode bits that do not reflect the ACLs; the cache is used
    windows = tmp_path / "windows"
    windows.mkdir()
    windows.chmod(0o777)
    monkeypatch.setenv("SOC2LINT_CACHE_DIR", str(windows))
    monkeypatch.delattr(os, "getuid")
    assert _scan(repo, all_rules)[0] == expected
    assert len(_entries(windows)) == 5 and take_notices() == []


def test_the_command_line_says_on_stderr_why_the_cache_was_not_used(repo, tmp_path, monkeypatch,
                                                                   fresh_parser):
    from helpers import run_cli

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("SOC2LINT_CACHE_DIR", str(shared))
    result = run_cli(["scan", ".", "-f", "json"], repo)
    assert result.exit_code in (0, 1)
    warnings = [line for line in result.stderr.splitlines() if line.startswith("soc2lint: warning:")]
    assert len(warnings) == 1 and "other users may write to it" in warnings[0], result.stderr
    assert str(tmp_path) not in result.stdout  # the report names no path outside the repository
