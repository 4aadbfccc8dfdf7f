"""Module calls that are not evaluated as written: local calls that loop, registry and git sources."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import git_init, run_cli, write

ROOT = Path(__file__).resolve().parent.parent
RULE = ["--rule", "aws-rds-storage-encrypted"]


def db(name: str) -> str:
    return f'resource "aws_db_instance" "{name}" {{\n  storage_encrypted = true\n}}\n'


def call(name: str, source: str) -> str:
    return f'module "{name}" {{\n  source = "{source}"\n}}\n'


def scan(tmp_path, *args: str) -> tuple[int, dict]:
    result = run_cli(["scan", ".", *args, "--format", "json"], tmp_path)
    return result.exit_code, json.loads(result.stdout)


def addresses(data: dict) -> list[str]:
    return sorted(r["entity"]["address"] for r in data["results"])


def errors(data: dict) -> list[dict]:
    return [n for n in data["notifications"] if n["level"] == "error"]


# -- local calls that loop ----------------------------------------------------------------------
def test_modules_that_call_each_other_are_an_error_and_the_rest_is_evaluated(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {
        "main.tf": db("root") + call("a", "./a") + call("c", "./c"),
        "a/main.tf": db("in_a") + "\n" + call("b", "../b"),
        "b/main.tf": db("in_b") + "\n" + call("a", "../a"),
        "c/main.tf": db("in_c"),
    })
    code, data = scan(tmp_path, *RULE)
    assert addresses(data) == ["aws_db_instance.root", "module.a.aws_db_instance.in_a",
                               "module.a.module.b.aws_db_instance.in_b", "module.c.aws_db_instance.in_c"]
    [error] = errors(data)
    assert (error["file"], error["line"]) == ("a/main.tf", 5)
    assert 'module "b" (a/main.tf, line 5) calls "../b"' in error["message"]
    assert 'module "a" (b/main.tf, line 5) calls "../a"' in error["message"]
    assert code == 3


def test_a_module_that_calls_its_own_directory_is_an_error(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {"main.tf": db("root") + call("again", "./")})
    code, data = scan(tmp_path, *RULE)
    assert addresses(data) == ["aws_db_instance.root"]
    [error] = errors(data)
    assert (error["file"], error["line"]) == ("main.tf", 4)
    assert 'module "again" (main.tf, line 4) calls "./"' in error["message"]
    assert code == 3


def test_a_loop_back_to_the_root_keeps_the_root_s_resources(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {
        "main.tf": db("root") + call("a", "./a"),
        "a/main.tf": db("in_a") + call("b", "../b"),
        "b/main.tf": db("in_b") + call("root", "../"),
    })
    code, data = scan(tmp_path, *RULE)
    assert addresses(data) == ["aws_db_instance.root", "module.a.aws_db_instance.in_a",
                               "module.a.module.b.aws_db_instance.in_b"]
    [error] = errors(data)
    assert error["message"].count(") calls ") == 3
    assert code == 3


def test_a_module_called_along_two_paths_is_not_a_loop(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {
        "main.tf": call("a", "./a") + call("b", "./b"),
        "a/main.tf": call("shared", "../shared"),
        "b/main.tf": call("shared", "../shared"),
        "shared/main.tf": db("db"),
    })
    code, data = scan(tmp_path, *RULE)
    assert addresses(data) == ["module.a.module.shared.aws_db_instance.db",
                               "module.b.module.shared.aws_db_instance.db"]
    assert errors(data) == [] and code == 0


def test_a_call_nested_too_deep_is_a_warning_not_a_silent_gap(tmp_path):
    git_init(tmp_path)
    files = {"main.tf": db("root") + call("m1", "./m1")}
    for level in range(1, 19):
        files[f"m{level}/main.tf"] = db(f"level{level}") + call(f"m{level + 1}", f"../m{level + 1}")
    files["m19/main.tf"] = db("bottom")
    write(tmp_path, files)
    code, data = scan(tmp_path, *RULE)
    assert code == 0 and len(data["results"]) == 17  # the root and sixteen levels of calls
    [warning] = [n for n in data["notifications"] if n["level"] == "warning"]
    assert warning["file"] == "m16/main.tf" and warning["line"] == 4
    calls = ".".join(f"module.m{level}" for level in range(1, 18))
    assert warning["message"].startswith(f"{calls} is nested more than 16 local module calls deep")


# -- registry and git sources --------------------------------------------------------------------
REMOTE = {
    "main.tf": db("root")
    + 'module "vpc" {\n  source  = "terraform-aws-modules/vpc/aws"\n  version = "5.1.0"\n}\n'
    + 'module "app" {\n  source = "./app"\n}\n',
    "app/main.tf": 'module "queue" {\n  count  = 2\n'
                   '  source = "git::https://github.com/acme/queue.git?ref=v1"\n}\n',
}


def test_calls_that_are_not_evaluated_are_counted_once_and_listed_in_json(tmp_path):
    import jsonschema

    git_init(tmp_path)
    write(tmp_path, REMOTE)
    code, data = scan(tmp_path, *RULE)
    [note] = [n for n in data["notifications"] if "not evaluated" in n["message"]]
    assert note["level"] == "note" and note["message"].startswith(
        "2 module calls with a registry or remote (git, HTTP...) source are not evaluated")
    assert data["module_calls_not_evaluated"] == [
        {"file": "app/main.tf", "line": 1, "address": "module.app.module.queue",
         "source": "git::https://github.com/acme/queue.git?ref=v1", "version": None},
        {"file": "main.tf", "line": 4, "address": "module.vpc", "source": "terraform-aws-modules/vpc/aws",
         "version": "5.1.0"},
    ]
    assert data["summary"]["errors"] == 0 and code == 0
    schema = json.loads((ROOT / "soc2lint" / "schema" / "report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(data)


def test_the_text_report_mentions_them_in_one_line(tmp_path):
    git_init(tmp_path)
    write(tmp_path, REMOTE)
    result = run_cli(["scan", ".", *RULE], tmp_path)
    lines = [line for line in result.stdout.splitlines() if "module call" in line]
    assert lines == ["  note  2 module calls with a registry or remote (git, HTTP...) source are not "
                     "evaluated: the resources they create are not checked (listed in the JSON and "
                     "audit reports)"]
    assert result.exit_code == 0


def test_a_scan_without_them_says_nothing(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {"main.tf": db("root")})
    code, data = scan(tmp_path, *RULE)
    assert data["notifications"] == [] and data["module_calls_not_evaluated"] == [] and code == 0
