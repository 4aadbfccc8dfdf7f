"""Terraform evaluation: expressions, modules, variable files, overrides, instances, joins."""

from __future__ import annotations

import pytest
from helpers import git_init, scan_json, write

from soc2lint.evaluate.project import evaluate_text
from soc2lint.evaluate.values import Ref, Template, Unknown


def attrs(text: str, address: str = "aws_x.y") -> dict:
    """The evaluated data of one block of a file evaluated on its own."""
    entities = {e.address: e for e in evaluate_text("main.tf", text)}
    return dict(entities[address].data)


def value(expression: str, prelude: str = "") -> object:
    return attrs(f'{prelude}\nresource "aws_x" "y" {{\n  v = {expression}\n}}\n')["v"]


@pytest.mark.parametrize(("expression", "expected"), [
    ("1 + 2 * 3", 7),
    ("(1 + 2) * 3", 9),
    ("10 - 4 - 3", 3),
    ("1 + 2 == 3 && 4 > 3", True),
    ("true || false && false", True),
    ("!true == false", True),
    ('"5" + 1', 6),
    ('"true" == true', False),  # HCL equality does not convert types
    ("7 % 4", 3),
    ("true ? \"a\" : \"b\"", "a"),
    ('[for s in ["a", "b"] : upper(s)]', ["A", "B"]),
    ('{for k, v in {a = 1, b = 2} : k => v * 10 if v > 1}', {"b": 20}),
    ('{for s in ["x", "y", "x"] : s => s...}', {"x": ["x", "x"], "y": ["y"]}),
    ('[{a = 1}, {a = 2}][*].a', [1, 2]),
    ('"${1 + 1}-${"x"}"', "2-x"),
    ('"$${literal}"', "${literal}"),
    ('try({a = 1}.b, "fallback")', "fallback"),
    ('can({a = 1}.b)', False),
    ('lookup({a = "x"}, "a", "d")', "x"),
    ('jsondecode(jsonencode({b = [1, true]}))', {"b": [1, True]}),
    ('coalesce("", null, "z")', "z"),
    ('length(concat([1], [2, 3]))', 3),
])
def test_expressions(expression, expected):
    assert value(expression) == expected


def test_precedence_of_a_comparison_chain_is_terraform_s():
    # the grammar nests operators to the right; evaluation must not: 2 * 3 + 1 is 7, not 8
    assert value("2 * 3 + 1") == 7
    assert value("8 / 2 / 2") == 2


def test_heredoc_with_interpolation_and_trim():
    text = ('locals {\n  env = "prod"\n}\n'
            'resource "aws_x" "y" {\n  v = <<-EOT\n    name: ${local.env}\n      deep\n  EOT\n}\n')
    assert attrs(text)["v"] == "name: prod\n  deep\n"


def test_unknown_holes_keep_known_parts_and_name_the_cause():
    v = value('"arn:${data.aws_partition.p.partition}:s3:::b/*"',
              'data "aws_partition" "p" {}')
    assert isinstance(v, Template)
    assert v.parts[0] == "arn:" and v.parts[-1] == ":s3:::b/*"
    assert "data.aws_partition.p.partition" in v.reason


def test_variable_without_value_is_unknown_and_named():
    v = value("var.encrypted", 'variable "encrypted" {\n  type = bool\n}')
    assert isinstance(v, Unknown) and v.reason == "var.encrypted has no value"


def test_reference_to_a_computed_attribute_keeps_its_address():
    v = value("aws_kms_key.k.arn", 'resource "aws_kms_key" "k" {}')
    assert isinstance(v, Ref) and v.address == "aws_kms_key.k" and v.attribute == "arn"


def test_reference_to_a_configured_attribute_is_its_value():
    assert value("aws_kms_key.k.description", 'resource "aws_kms_key" "k" {\n  description = "d"\n}') == "d"


def test_locals_built_from_locals_and_cycles():
    prelude = 'locals {\n  a = "x"\n  b = "${local.a}-y"\n  c = local.d\n  d = local.c\n}'
    assert value("local.b", prelude) == "x-y"
    assert isinstance(value("local.c", prelude), Unknown)


def test_unknown_function_is_unknown():
    v = value('provider::aws::arn_parse("x")')
    assert isinstance(v, Unknown)
    assert v.reason == 'provider::aws::arn_parse("…"): provider functions are not evaluated'
    v = value("nosuchfunction(1)")
    assert isinstance(v, Unknown)
    assert v.reason == "nosuchfunction(1): function 'nosuchfunction' is not evaluated"


# A reason names an expression by its references, calls and operators; literal text becomes `…`.
@pytest.mark.parametrize(("argument", "shown"), [
    ('(var.a + "1") * 2 - -var.b', '(var.a + "…") * 2 - -var.b'),
    ('!(var.a || var.b) && var.c == "x" || var.c == 1.5',
     '!(var.a || var.b) && var.c == "…" || var.c == 1.5'),
    ('(var.a ? "yes" : "no") ? true : null', '(var.a ? "…" : "…") ? true : null'),
    ('[for k, v in var.m : upper(v) if v != "x"]', '[for k, v in var.m : upper(v) if v != "…"]'),
    ('{for k, v in var.m : k => "${v}-x"...}', '{for k, v in var.m : k => "${v}…"...}'),
    ('{ "Name" = "x", k = var.y, (var.k) = 1 }', '{"…" = "…", k = var.y, (var.k) = 1}'),
    ('var.x[*].id, var.m["k"].z, ""', 'var.x[*].id, var.m["…"].z, ""'),
    ('"a-${var.x}-b${var.z}"', '"…${var.x}…${var.z}"'),
    ("<<EOT\nhello ${var.y}\nEOT\n", '"…${var.y}…"'),
    ('"%{ if var.on }x${var.z}%{ endif }"', '"%{ if var.on }…${var.z}%{ endif }"'),
    ('provider::a::f("x\\"y", /* a note */ { k = "v" })', 'provider::a::f("…", { k = "…" })'),
])
def test_reason_shows_references_and_hides_literals(argument, shown):
    declared = "".join(f'variable "{name}" {{}}\n' for name in ("a", "b", "c", "k", "m", "on", "x", "y", "z"))
    v = value(f"nosuch({argument})", declared)
    assert isinstance(v, Unknown)
    assert v.reason == f"nosuch({shown}): function 'nosuch' is not evaluated"


def test_reason_for_a_count_that_is_not_a_number_does_not_quote_it():
    v = value("aws_x.z[*].id", 'resource "aws_x" "z" {\n  count = "four"\n}')
    assert isinstance(v, Unknown) and v.reason == "count is not a whole number (got string)"


def test_count_and_for_each_instances():
    text = '''
resource "aws_x" "none" {
  count = 0
}
resource "aws_x" "two" {
  count = 2
  name  = "n-${count.index}"
}
resource "aws_x" "map" {
  for_each = { a = "one", b = "two" }
  name     = "${each.key}=${each.value}"
}
'''
    entities = {e.address: e for e in evaluate_text("main.tf", text)}
    assert not any(a.startswith("aws_x.none") for a in entities)
    assert entities["aws_x.two[1]"].data["name"] == "n-1"
    assert entities["aws_x.two[1]"].instance_key == "1"
    assert entities['aws_x.map["b"]'].data["name"] == "b=two"


def test_dynamic_blocks_are_expanded_when_their_collection_is_known():
    text = '''
locals {
  ports = [22, 443]
}
resource "aws_x" "y" {
  dynamic "ingress" {
    for_each = local.ports
    iterator = p
    content {
      from_port = p.value
    }
  }
}
'''
    data = attrs(text)
    assert data["ingress"] == [{"from_port": 22}, {"from_port": 443}]


def test_split_resources_join_and_unresolved_pointer_is_unknown(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {"main.tf": '''
resource "aws_s3_bucket" "a" {
  bucket = "a"
}
resource "aws_s3_bucket_versioning" "a" {
  bucket = aws_s3_bucket.a.id
  versioning_configuration {
    status = "Enabled"
  }
}
resource "aws_s3_bucket" "b" {
  bucket = "b"
}
''', "module/main.tf": '''
variable "bucket" {}
resource "aws_s3_bucket" "c" {
  bucket = "c"
}
resource "aws_s3_bucket_versioning" "c" {
  bucket = var.bucket
  versioning_configuration {
    status = "Enabled"
  }
}
'''})
    data = scan_json([".", "--rule", "aws-s3-versioning"], tmp_path)
    outcomes = {r["entity"]["address"]: (r["outcome"], r["unresolved"]) for r in data["results"]}
    assert outcomes["aws_s3_bucket.a"][0] == "pass"
    assert outcomes["aws_s3_bucket.b"][0] == "fail"
    assert outcomes["aws_s3_bucket.c"][0] == "unknown"
    assert "var.bucket has no value" in outcomes["aws_s3_bucket.c"][1][0]


RDS = 'resource "aws_db_instance" "db" {\n  storage_encrypted = var.encrypted\n}\n'


def _rds_outcomes(tmp_path, *args):
    data = scan_json([*args, "--rule", "aws-rds-storage-encrypted"], tmp_path)
    return {(r["file"], r["entity"]["address"]): r["outcome"] for r in data["results"]}


def test_variable_files_terraform_loads_and_the_order_they_win(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {"infra/main.tf": RDS,
                     "infra/variables.tf": 'variable "encrypted" {\n  default = true\n}\n',
                     "infra/terraform.tfvars": "encrypted = false\n",
                     "infra/prod.tfvars": "encrypted = true\n",
                     "infra/z.auto.tfvars.json": '{"encrypted": "false"}\n'})
    key = ("infra/main.tf", "aws_db_instance.db")
    # terraform.tfvars and *.auto.tfvars are loaded; prod.tfvars is not unless named
    assert _rds_outcomes(tmp_path, "infra")[key] == "fail"
    assert _rds_outcomes(tmp_path, "infra", "--var-file", "infra/prod.tfvars")[key] == "pass"
    # the string "true" converts to the bool true, as Terraform does
    write(tmp_path, {"infra/z.auto.tfvars.json": '{"encrypted": "true"}\n'})
    assert _rds_outcomes(tmp_path, "infra")[key] == "pass"


def test_one_file_is_evaluated_with_its_directory_and_only_it_is_reported(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {"infra/main.tf": RDS,
                     "infra/variables.tf": 'variable "encrypted" {\n  default = false\n}\n'
                                           'resource "aws_db_instance" "other" {}\n'})
    outcomes = _rds_outcomes(tmp_path, "infra/main.tf")
    assert outcomes == {("infra/main.tf", "aws_db_instance.db"): "fail"}


def test_one_file_joins_resources_of_its_sibling_files(tmp_path):
    """A split S3 setting or an account-wide default in another file of the directory counts
    when only the file that uses it is named (as pre-commit names staged files)."""
    git_init(tmp_path)
    write(tmp_path, {"infra/default.tf": 'resource "aws_ebs_encryption_by_default" "on" {\n'
                                         '  enabled = true\n}\n',
                     "infra/ebs.tf": 'resource "aws_ebs_volume" "data" {\n  size = 10\n}\n'})
    data = scan_json(["infra/ebs.tf", "--rule", "aws-ebs-volume-encrypted"], tmp_path)
    assert [(r["file"], r["outcome"]) for r in data["results"]] == [("infra/ebs.tf", "pass")]
    assert data["files"] == ["infra/ebs.tf"]
    write(tmp_path, {"infra/default.tf": 'resource "aws_ebs_encryption_by_default" "on" {\n'
                                         '  enabled = false\n}\n'})
    data = scan_json(["infra/ebs.tf", "--rule", "aws-ebs-volume-encrypted"], tmp_path)
    assert [(r["file"], r["outcome"]) for r in data["results"]] == [("infra/ebs.tf", "fail")]


def test_a_local_module_called_twice_is_evaluated_per_call(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {
        "live/main.tf": 'module "a" {\n  source    = "../modules/db"\n  encrypted = true\n}\n'
                        'module "b" {\n  source    = "../modules/db"\n  encrypted = false\n}\n',
        "modules/db/main.tf": 'variable "encrypted" {}\n' + RDS,
    })
    data = scan_json([".", "--rule", "aws-rds-storage-encrypted"], tmp_path)
    results = {r["entity"]["address"]: r for r in data["results"]}
    assert set(results) == {"module.a.aws_db_instance.db", "module.b.aws_db_instance.db"}
    failing = results["module.b.aws_db_instance.db"]
    assert failing["outcome"] == "fail" and failing["file"] == "modules/db/main.tf" and failing["line"] == 3
    assert failing["related_locations"] == [
        {"file": "live/main.tf", "line": 5, "message": "module.b is called here"}]
    assert results["module.a.aws_db_instance.db"]["outcome"] == "pass"
    assert results["module.a.aws_db_instance.db"]["fingerprint"] != failing["fingerprint"]


def test_a_named_file_that_calls_a_module_reports_that_call(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {"live/main.tf": 'module "b" {\n  source    = "../modules/db"\n  encrypted = false\n}\n',
                     "live/other.tf": 'module "c" {\n  source    = "../modules/db"\n  encrypted = false\n}\n',
                     "modules/db/main.tf": 'variable "encrypted" {}\n' + RDS})
    data = scan_json(["live/main.tf", "--rule", "aws-rds-storage-encrypted"], tmp_path)
    assert [(r["entity"]["address"], r["file"], r["outcome"]) for r in data["results"]] == [
        ("module.b.aws_db_instance.db", "modules/db/main.tf", "fail")]


def test_a_module_scanned_on_its_own_has_unknown_inputs(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {"modules/db/main.tf": 'variable "encrypted" {}\n' + RDS})
    data = scan_json(["modules/db/main.tf", "--rule", "aws-rds-storage-encrypted"], tmp_path)
    [result] = data["results"]
    assert result["outcome"] == "unknown" and result["unresolved"] == ["var.encrypted has no value"]


def test_remote_module_outputs_are_unknown(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {"main.tf": 'module "kms" {\n  source = "terraform-aws-modules/kms/aws"\n}\n'
                                'resource "aws_db_instance" "db" {\n'
                                '  storage_encrypted = module.kms.on\n}\n'})
    [result] = scan_json([".", "--rule", "aws-rds-storage-encrypted"], tmp_path)["results"]
    assert result["outcome"] == "unknown" and "remote or missing source" in result["unresolved"][0]


def test_override_files_are_merged(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {"main.tf": 'resource "aws_db_instance" "db" {\n  storage_encrypted = true\n}\n',
                     "main_override.tf":
                         'resource "aws_db_instance" "db" {\n  storage_encrypted = false\n}\n'})
    [result] = scan_json([".", "--rule", "aws-rds-storage-encrypted"], tmp_path)["results"]
    assert (result["outcome"], result["file"], result["line"]) == ("fail", "main.tf", 2)
    assert result["related_locations"][0]["file"] == "main_override.tf"


def test_bad_sibling_is_a_warning_and_the_rest_is_evaluated(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {"main.tf": 'resource "aws_db_instance" "db" {\n  storage_encrypted = false\n}\n',
                     "broken.tf": 'resource "x" {\n'})
    data = scan_json(["main.tf", "--rule", "aws-rds-storage-encrypted"], tmp_path)
    assert [r["outcome"] for r in data["results"]] == ["fail"]
    [note] = data["notifications"]
    assert note["file"] == "broken.tf" and note["level"] == "warning"


def test_unknown_as_failure_changes_only_the_exit_code(tmp_path):
    from helpers import run_cli

    git_init(tmp_path)
    write(tmp_path, {"main.tf": 'variable "encrypted" {}\n' + RDS})
    assert run_cli(["scan", ".", "--rule", "aws-rds-storage-encrypted"], tmp_path).exit_code == 0
    result = run_cli(["scan", ".", "--rule", "aws-rds-storage-encrypted", "--unknown-as-failure"], tmp_path)
    assert result.exit_code == 1


def test_a_tofu_file_replaces_the_tf_file_of_the_same_name(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {"main.tf": 'resource "aws_db_instance" "db" {\n  storage_encrypted = false\n}\n',
                     "main.tofu": 'resource "aws_db_instance" "db" {\n  storage_encrypted = true\n}\n'})
    data = scan_json([".", "--rule", "aws-rds-storage-encrypted"], tmp_path)
    assert [(r["file"], r["outcome"]) for r in data["results"]] == [("main.tofu", "pass")]


def test_a_block_that_may_not_be_created_is_undecided_unless_the_rule_judges_the_code(tmp_path):
    """count or for_each unknown (here or on the module call above): a failed infrastructure
    check is undecided, naming why; a credential written in the block is a finding either way."""
    write(tmp_path, {
        "main.tf": 'variable "n" {}\n\nresource "aws_db_instance" "a" {\n  count = var.n\n'
                   '  password = "Orders-2024-master!"\n}\n\n'
                   'resource "aws_db_instance" "b" {\n  count = 1\n}\n\n'
                   'module "m" {\n  source   = "./m"\n  for_each = var.n\n}\n',
        "m/main.tf": 'resource "aws_db_instance" "c" {}\n'})
    data = scan_json([".", "--rule", "aws-rds-storage-encrypted,aws-db-password-literal"], tmp_path)
    outcomes = {(r["entity"]["address"], r["rule_id"]): (r["outcome"], r["unresolved"])
                for r in data["results"]}
    assert outcomes[("aws_db_instance.a", "aws-rds-storage-encrypted")] == (
        "unknown", ["whether aws_db_instance.a is created: var.n has no value"])
    assert outcomes[("aws_db_instance.b[0]", "aws-rds-storage-encrypted")] == ("fail", [])
    assert outcomes[("module.m.aws_db_instance.c", "aws-rds-storage-encrypted")][0] == "unknown"
    assert outcomes[("aws_db_instance.a", "aws-db-password-literal")] == ("fail", [])
