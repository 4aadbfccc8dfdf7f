"""The parse cache (content-addressed, never stale, safe to delete) and the process pool."""

from __future__ import annotations

import shutil

from helpers import git_init, write

from soc2lint.discovery import discover
from soc2lint.evaluate.project import Project
from soc2lint.parsers.cache import ParseCache

TF = 'resource "aws_db_instance" "db{n}" {{\n  storage_encrypted = {value}\n}}\n'


def _evaluate(root, cache, workers=None):
    project = Project(cache=cache, workers=workers)
    result = project.evaluate(discover([str(root)]).sources)
    return ({(e.path, e.address): dict(e.data) for e in result.entities if e.kind != "root"},
            result.notifications)


def test_cache_hits_on_the_same_text_and_misses_on_changed_text(tmp_path, monkeypatch):
    git_init(tmp_path / "repo")
    write(tmp_path / "repo", {"main.tf": TF.format(n=1, value="true")})
    monkeypatch.chdir(tmp_path / "repo")
    cache = ParseCache(tmp_path / "cache")
    first, _ = _evaluate(tmp_path / "repo", cache)
    assert (cache.hits, cache.misses) == (0, 1)
    again, _ = _evaluate(tmp_path / "repo", cache)
    assert again == first and cache.hits == 1
    write(tmp_path / "repo", {"main.tf": TF.format(n=1, value="false")})
    changed, _ = _evaluate(tmp_path / "repo", cache)
    assert changed[("main.tf", "aws_db_instance.db1")]["storage_encrypted"] is False  # never stale


def test_cache_directory_is_safe_to_delete_or_corrupt(tmp_path, monkeypatch):
    git_init(tmp_path / "repo")
    write(tmp_path / "repo", {"main.tf": TF.format(n=1, value="true")})
    monkeypatch.chdir(tmp_path / "repo")
    cache = ParseCache(tmp_path / "cache")
    expected, _ = _evaluate(tmp_path / "repo", cache)
    entries = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert len(entries) == 1
    for entry in entries:
        entry.write_bytes(b"not an entry")
    assert _evaluate(tmp_path / "repo", cache)[0] == expected
    shutil.rmtree(tmp_path / "cache")
    assert _evaluate(tmp_path / "repo", cache)[0] == expected


def test_process_pool_gives_the_same_entities_as_one_process(tmp_path, monkeypatch):
    git_init(tmp_path / "repo")
    files = {f"m{n // 10}/f{n}.tf": TF.format(n=n, value="true" if n % 2 else "false") for n in range(80)}
    files["m0/broken.tf"] = 'resource "x" {\n'
    write(tmp_path / "repo", files)
    monkeypatch.chdir(tmp_path / "repo")
    serial, serial_notes = _evaluate(tmp_path / "repo", ParseCache(None), workers=1)
    pooled, pooled_notes = _evaluate(tmp_path / "repo", ParseCache(None), workers=2)
    assert len(serial) == 80 and pooled == serial
    assert [(n.path, n.message) for n in pooled_notes] == [(n.path, n.message) for n in serial_notes]
    assert [n.path for n in serial_notes] == ["m0/broken.tf"]


def test_pool_workers_store_entries_that_the_next_scan_reads(tmp_path, monkeypatch):
    git_init(tmp_path / "repo")
    write(tmp_path / "repo", {f"m{n // 10}/f{n}.tf": TF.format(n=n, value="true" if n % 3 else "false")
                              for n in range(80)})
    monkeypatch.chdir(tmp_path / "repo")
    expected, _ = _evaluate(tmp_path / "repo", ParseCache(None), workers=1)
    cold = ParseCache(tmp_path / "cache")
    assert _evaluate(tmp_path / "repo", cold, workers=2)[0] == expected
    assert (cold.hits, cold.misses) == (0, 80)
    assert len([p for p in (tmp_path / "cache").rglob("*") if p.is_file()]) == 80
    warm = ParseCache(tmp_path / "cache")
    assert _evaluate(tmp_path / "repo", warm, workers=2)[0] == expected
    assert (warm.hits, warm.misses) == (80, 0)


def test_parse_workers_import_nothing_from_the_working_directory(tmp_path):
    """Where workers start in a new interpreter (spawn is the default on macOS, forkserver on
    Linux from Python 3.14), a `multiprocessing/` planted in the scanned checkout never runs."""
    import json
    import os
    import subprocess
    import sys

    markers = tmp_path / "markers"
    markers.mkdir()
    planted = f"open({str(markers / 'ran')!r}, 'w').write('x')\n"
    repo = write(tmp_path / "repo", {**{f"m{n}.tf": TF.format(n=n, value="false") for n in range(70)},
                                     "multiprocessing/__init__.py": planted,
                                     "concurrent/__init__.py": planted})
    git_init(repo)
    runner = write(tmp_path / "runner", {"run.py": (  # a default start method, a platform
        "import multiprocessing, sys\nif __name__ == '__main__':\n"
        "    multiprocessing.set_start_method(sys.argv.pop(1))\n    sys.platform = sys.argv.pop(1)\n"
        "    from soc2lint.cli import main\n    main()\n")}) / "run.py"
    env = dict(os.environ, SOC2LINT_NO_CACHE="1", SOC2LINT_WORKERS="2")
    env.pop("PYTHONSAFEPATH", None)
    cases = [("spawn", sys.platform), ("forkserver", sys.platform)]
    cases += [("spawn", "darwin")] if sys.version_info >= (3, 11) else []  # spawned, safe path
    for method, platform in cases:
        done = subprocess.run([sys.executable, str(runner), method, platform, "scan", ".", "-f",
                               "json", "--rule", "aws-rds-storage-encrypted"], cwd=repo, env=env,
                              capture_output=True, text=True, timeout=600)
        assert list(markers.iterdir()) == [], (method, platform, done.stderr[-2000:])
        assert json.loads(done.stdout)["summary"]["outcomes"]["fail"] == 70, done.stderr[-2000:]
