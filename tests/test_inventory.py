"""The subservice inventory, from real files through discovery and parsing."""

from __future__ import annotations

import pytest
from helpers import write

from soc2lint.derive import derive
from soc2lint.discovery import discover
from soc2lint.evaluate.project import Project, evaluate_text
from soc2lint.inventory import MAX_EVIDENCE, Evidence, RemoteModule, take_inventory
from soc2lint.scan import TERRAFORM_KINDS, parse_source
from soc2lint.secrets import without_credentials

MAIN_TF = '''\
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
    datadog = {
      source = "DataDog/datadog"
    }
    random = {
      source = "hashicorp/random"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
}

resource "aws_s3_bucket" "logs" {
  bucket = "logs"
}

resource "aws_s3_bucket" "data" {
  count  = 2
  bucket = "data-${count.index}"
}

resource "datadog_monitor" "cpu" {
  name = "cpu"
}

resource "random_id" "suffix" {
  byte_length = 4
}

resource "null_resource" "noop" {}

module "network" {
  source = "./modules/network"
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.1.0"
}

module "label" {
  source = "git::https://github.com/cloudposse/terraform-null-label.git?ref=0.25.0"
}
'''

NETWORK_TF = '''\
resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}
'''

DEPLOYMENT = '''\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.25
        - name: sidecar
          image: ghcr.io/acme/sidecar:2.1
        - name: api
          image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:3.0
'''

WORKFLOW = '''\
name: ci
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: arn:aws:iam::123456789012:role/ci
      - uses: softprops/action-gh-release@v2
      - uses: docker://alpine:3.19
      - uses: ./.github/actions/local
  deploy:
    uses: acme/shared/.github/workflows/deploy.yml@main
  nightly:
    runs-on: [self-hosted, linux]
    steps:
      - run: echo hello
'''


def entities_of(root, monkeypatch) -> list:
    """Entities the way scan() builds them: Terraform evaluated and derived, YAML parsed."""
    monkeypatch.chdir(root)
    found = discover(["."])
    terraform = [s for s in found.sources if s.kind in TERRAFORM_KINDS]
    entities = list(derive(Project().evaluate(terraform).entities))
    for source in found.sources:
        if source.kind not in TERRAFORM_KINDS:
            entities.extend(parse_source(source)[0])
    return entities


@pytest.fixture
def inventory(tmp_path, monkeypatch):
    write(tmp_path, {
        "infra/main.tf": MAIN_TF,
        "infra/modules/network/main.tf": NETWORK_TF,
        "k8s/deployment.yaml": DEPLOYMENT,
        ".github/workflows/ci.yml": WORKFLOW,
    })
    return take_inventory(entities_of(tmp_path, monkeypatch))


def by_name(inventory) -> dict:
    return {s.name: s for s in inventory.subservices}


def test_organisations_and_categories(inventory):
    assert [(s.name, s.category) for s in inventory.subservices] == [
        ("Amazon Web Services", "cloud provider"),
        ("Datadog", "monitoring"),
        ("Docker Hub", "container registry"),
        ("GitHub", "source control and CI"),
        ("GitHub Actions publisher 'acme'", "third-party CI action"),
        ("GitHub Actions publisher 'softprops'", "third-party CI action"),
        ("HashiCorp", "infrastructure automation"),
    ]


def test_aws_evidence_from_every_framework(inventory):
    aws = by_name(inventory)["Amazon Web Services"]
    assert aws.evidence == (
        Evidence("github action", "aws-actions/configure-aws-credentials@v4", ".github/workflows/ci.yml", 8),
        Evidence("terraform provider", "hashicorp/aws", "infra/main.tf", 4),
        Evidence("terraform provider", "provider.aws", "infra/main.tf", 16),
        Evidence("terraform resource types", "aws_s3_bucket (2)", "infra/main.tf", 20),
        # a resource of the local module is evaluated, in its own file
        Evidence("terraform resource types", "aws_vpc (1)", "infra/modules/network/main.tf", 1),
        Evidence("container image", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:3.0",
                 "k8s/deployment.yaml", 14),
    )
    assert aws.count == 6


def test_datadog_from_required_providers_and_resources(inventory):
    assert by_name(inventory)["Datadog"].evidence == (
        Evidence("terraform provider", "DataDog/datadog", "infra/main.tf", 8),
        Evidence("terraform resource types", "datadog_monitor (1)", "infra/main.tf", 29),
    )


def test_container_images(inventory):
    docker = by_name(inventory)["Docker Hub"]
    assert docker.evidence == (
        Evidence("container image", "docker.io/library/alpine:3.19", ".github/workflows/ci.yml", 12),
        Evidence("container image", "docker.io/library/nginx:1.25", "k8s/deployment.yaml", 10),
    )
    ghcr = Evidence("container image", "ghcr.io/acme/sidecar:2.1", "k8s/deployment.yaml", 12)
    assert ghcr in by_name(inventory)["GitHub"].evidence


def test_github_evidence(inventory):
    services = by_name(inventory)
    assert services["GitHub"].evidence == (
        Evidence("github actions workflow", "runs-on: ubuntu-latest", ".github/workflows/ci.yml", 5),
        Evidence("github action", "actions/checkout@v4", ".github/workflows/ci.yml", 7),
        Evidence("terraform module", "git::https://github.com/cloudposse/terraform-null-label.git?ref=0.25.0",
                 "infra/main.tf", 49),
        Evidence("container image", "ghcr.io/acme/sidecar:2.1", "k8s/deployment.yaml", 12),
    )
    assert services["GitHub Actions publisher 'softprops'"].evidence == (
        Evidence("github action", "softprops/action-gh-release@v2", ".github/workflows/ci.yml", 11),)
    assert services["GitHub Actions publisher 'acme'"].evidence == (
        Evidence("github actions workflow", "acme/shared/.github/workflows/deploy.yml@main",
                 ".github/workflows/ci.yml", 15),)


def test_self_hosted_runner_and_local_action_are_not_evidence(inventory):
    details = [e.detail for s in inventory.subservices for e in s.evidence]
    assert not [d for d in details if "self-hosted" in d or "./.github" in d]


def test_registry_module_names_its_publisher(inventory):
    assert by_name(inventory)["HashiCorp"].evidence == (
        Evidence("terraform module",
                 "terraform-aws-modules/vpc/aws (registry module published by 'terraform-aws-modules')",
                 "infra/main.tf", 44),)


def test_remote_modules_only(inventory):
    assert inventory.remote_modules == (
        RemoteModule("infra/main.tf", 43, "module.vpc", "terraform-aws-modules/vpc/aws", "5.1.0"),
        RemoteModule("infra/main.tf", 48, "module.label",
                     "git::https://github.com/cloudposse/terraform-null-label.git?ref=0.25.0", None),
    )


def test_utility_providers_and_local_modules_are_left_out(inventory):
    details = " ".join(e.detail for s in inventory.subservices for e in s.evidence)
    for left_out in ("random", "null_resource", "modules/network"):
        assert left_out not in details
    assert not [s.name for s in inventory.subservices if "Terraform provider" in s.name]


def tf_inventory(text: str):
    return take_inventory(evaluate_text("main.tf", text))


def test_unknown_provider_and_implied_sources():
    inventory = tf_inventory('''\
terraform {
  required_providers {
    widget = { source = "registry.terraform.io/Acme/widget" }
  }
}
resource "widget_thing" "a" {}
resource "google_storage_bucket" "b" {}
resource "tls_private_key" "c" {}
provider "okta" {}
''')
    assert [(s.name, s.category, [e.detail for e in s.evidence]) for s in inventory.subservices] == [
        ("Google Cloud", "cloud provider", ["google_storage_bucket (1)"]),
        ("Okta", "identity", ["provider.okta"]),
        ("Terraform provider 'acme/widget'", "Terraform provider",
         ["registry.terraform.io/Acme/widget", "widget_thing (1)"]),
    ]


@pytest.mark.parametrize(("source", "name"), [
    ("s3::https://s3-eu-west-1.amazonaws.com/acme/vpc.zip", "Amazon Web Services"),
    ("gcs::https://www.googleapis.com/storage/v1/acme/vpc.zip", "Google Cloud"),
    ("git@github.com:acme/vpc.git", "GitHub"),
    ("github.com/acme/vpc", "GitHub"),
    ("app.terraform.io/acme/vpc/aws", "HashiCorp"),
    ("bitbucket.org/acme/vpc", "Atlassian"),
    ("https://example.com/vpc.zip", "Terraform module host 'example.com'"),
])
def test_remote_module_sources(source, name):
    inventory = tf_inventory(f'module "m" {{\n  source = "{source}"\n}}\n')
    assert [s.name for s in inventory.subservices] == [name]
    assert inventory.remote_modules == (RemoteModule("main.tf", 1, "module.m", source, None),)


def test_module_with_count_is_listed_once():
    inventory = tf_inventory('module "m" {\n  count  = 3\n  source = "acme/vpc/aws"\n}\n')
    assert inventory.remote_modules == (RemoteModule("main.tf", 1, "module.m", "acme/vpc/aws", None),)


def test_evidence_is_capped_and_counted():
    text = "".join(f'module "m{i}" {{\n  source = "github.com/acme/m{i:02}"\n}}\n' for i in range(25))
    (github,) = tf_inventory(text).subservices
    assert github.count == 25
    assert len(github.evidence) == MAX_EVIDENCE
    assert [e.line for e in github.evidence] == [3 * i + 2 for i in range(MAX_EVIDENCE)]


# -- credentials in URLs: the user info goes, host, path and query stay -----------------------------
PASSWORD = "pa" + "ss"  # assembled, so no credential-shaped text is written here whole
TOKEN = "gh" + "p_" + "k" * 36


@pytest.mark.parametrize(("url", "shown"), [
    (f"git::https://user:{PASSWORD}@github.com/org/mod.git?ref=v1", "git::https://github.com/org/mod.git?ref=v1"),
    (f"git+https://user:{PASSWORD}@host.example/org/mod.git", "git+https://host.example/org/mod.git"),
    (f"https://user:p/{PASSWORD}@host.example/m.zip", "https://host.example/m.zip"),
    (f"https://user:p@{PASSWORD}@host.example/m.zip", "https://host.example/m.zip"),
    (f"https://user:p@s/{PASSWORD}@host.example/m.zip", "https://host.example/m.zip"),
    (f"https://user:p:{PASSWORD}@host.example/m.zip", "https://host.example/m.zip"),
    (f"https://user:p%2F{PASSWORD}%40@host.example/m.zip", "https://host.example/m.zip"),
    (f"s3::https://id:{PASSWORD}@s3.amazonaws.com/b/m.zip", "s3::https://s3.amazonaws.com/b/m.zip"),
    (f"https://{TOKEN}@github.com/org/repo", "https://github.com/org/repo"),
    (f"https://user:{PASSWORD}@gitlab/org/repo", "https://gitlab/org/repo"),
    (f"https://user:{PASSWORD}@[::1]:8443/x", "https://[::1]:8443/x"),
    (f"http://user:{PASSWORD}@host.example:port/x", "http://host.example:port/x"),
    (f"git::https://user:p/{PASSWORD}@[unparsable/x", "git::https://[unparsable/x"),
    (f"git::ssh://git:{PASSWORD}@github.com/org/repo.git", "git::ssh://github.com/org/repo.git"),
    (f"user:{PASSWORD}@github.com:org/repo.git", "github.com:org/repo.git"),
    (f"{TOKEN}@github.com:org/repo.git", "github.com:org/repo.git"),
    (f"docker://user:{PASSWORD}@ghcr.io/org/img:1", "docker://ghcr.io/org/img:1"),
    (f"docker://user:{PASSWORD}@alpine@sha256:{'a' * 64}", f"docker://alpine@sha256:{'a' * 64}"),
    (f"user:{PASSWORD}@registry.example.com/team/app:1", "registry.example.com/team/app:1"),
    (f"git::git@github.com:org/m.git?sshkey={PASSWORD}&ref=v2",
     "git::git@github.com:org/m.git?sshkey=…&ref=v2"),
    (f"s3::https://s3.amazonaws.com/b/m.zip?aws_access_key_id=AK&aws_access_key_secret={PASSWORD}",
     "s3::https://s3.amazonaws.com/b/m.zip?aws_access_key_id=…&aws_access_key_secret=…"),
    (f"https://host.example/m.zip?X-Amz-Signature={PASSWORD}&v=1", "https://host.example/m.zip?X-Amz-Signature=…&v=1"),
])
def test_urls_lose_their_credentials(url, shown):
    assert without_credentials(url) == shown
    assert without_credentials(shown) == shown


@pytest.mark.parametrize("kept", [
    "git@github.com:org/repo.git",  # scp-like: `git` is an account (ssh authenticates by key)
    "git::git@gitlab:org/repo.git?ref=v2",
    "hashicorp/consul/aws",
    "github.com/org/repo?ref=v1",
    "./modules/network",
    "https://host.example/org/repo@v1.2",
    "docker://alpine:3.20",
    f"docker://ghcr.io/org/img@sha256:{'b' * 64}",
    f"nginx:1.27@sha256:{'c' * 64}",
    "registry.example.com:5000/team/app:1",
    "https://[unparsable",
    "",
])
def test_references_without_credentials_are_kept(kept):
    assert without_credentials(kept) == kept


def test_remote_module_list_has_no_credentials_and_survives_an_unparsable_url():
    text = (f'module "a" {{\n  source = "git::https://user:{PASSWORD}@github.com/org/a.git?ref=v1"\n}}\n'
            'module "b" {\n  source = "git::https://[unparsable/b"\n}\n')
    inventory = tf_inventory(text)
    assert [m.source for m in inventory.remote_modules] == ["git::https://github.com/org/a.git?ref=v1",
                                                            "git::https://[unparsable/b"]
    details = [e.detail for s in inventory.subservices for e in s.evidence]
    assert "git::https://github.com/org/a.git?ref=v1" in details
    assert not any(PASSWORD in d for d in details)
