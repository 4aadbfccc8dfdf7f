"""A pod's ServiceAccount is followed across the scanned manifests, by name and namespace."""

from __future__ import annotations

import textwrap

import pytest
from helpers import write

from soc2lint.discovery import discover
from soc2lint.model import Outcome
from soc2lint.rules import load_rules
from soc2lint.scan import scan

RULE = "k8s-sa-token-automount"


def service_account(name: str, namespace: str | None = None, automount: str | None = None) -> str:
    lines = ["apiVersion: v1", "kind: ServiceAccount", "metadata:", f"  name: {name}"]
    if namespace:
        lines.append(f"  namespace: {namespace}")
    if automount is not None:
        lines.append(f"automountServiceAccountToken: {automount}")
    return "\n".join(lines) + "\n"


def deployment(name: str, namespace: str | None = None, pod_fields: str = "") -> str:
    """A Deployment whose pod spec starts on line 11 (line 10 without a namespace), with
    `pod_fields` written first in it."""
    namespace_line = f"  namespace: {namespace}\n" if namespace else ""
    fields = textwrap.indent(textwrap.dedent(pod_fields), " " * 6)
    return (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n{namespace_line}"
            f"spec:\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n"
            f"    metadata: {{labels: {{app: {name}}}}}\n    spec:\n{fields}"
            f"      containers:\n        - name: {name}\n          image: example/{name}:1.0\n")


def outcomes(tmp_path, monkeypatch, files: dict[str, str]) -> dict[str, tuple]:
    """The rule's (outcome, path, line, message) per workload address, over one scan."""
    write(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    rule = next(r for r in load_rules() if r.id == RULE)
    result = scan(discover(["."]), [rule])
    assert not [n for n in result.notifications if n.is_error]
    return {f.entity.address.removesuffix("/pod"): (f.outcome, f.path, f.span.line, f.message)
            for f in result.findings}


# -- through the scan: the rule sees the effective value ------------------------------------
def test_service_account_in_another_file_turns_the_token_off(tmp_path, monkeypatch):
    found = outcomes(tmp_path, monkeypatch, {
        "sa.yaml": service_account("api", "shop", "false"),
        "app/deploy.yaml": deployment("api", "shop", "serviceAccountName: api\n"),
    })
    assert found["Deployment/shop/api"][0] is Outcome.PASS


def test_deprecated_service_account_field_names_the_account(tmp_path, monkeypatch):
    found = outcomes(tmp_path, monkeypatch, {
        "sa.yaml": service_account("api", "shop", "false"),
        "deploy.yaml": deployment("api", "shop", "serviceAccount: api\n"),
    })
    assert found["Deployment/shop/api"][0] is Outcome.PASS


def test_pod_without_a_name_runs_as_default(tmp_path, monkeypatch):
    found = outcomes(tmp_path, monkeypatch, {
        "sa.yaml": service_account("default", "shop", "false"),
        "deploy.yaml": deployment("api", "shop"),
        "other.yaml": deployment("worker", "shop", "serviceAccountName: worker\n"),
    })
    assert found["Deployment/shop/api"][0] is Outcome.PASS
    assert found["Deployment/shop/worker"][0] is Outcome.FAIL


def test_service_account_that_mounts_fails_at_the_pod_spec(tmp_path, monkeypatch):
    found = outcomes(tmp_path, monkeypatch, {
        "sa.yaml": service_account("api", "shop", "true"),
        "deploy.yaml": deployment("api", "shop", "serviceAccountName: api\n"),
    })
    outcome, path, line, message = found["Deployment/shop/api"]
    assert (outcome, path, line) == (Outcome.FAIL, "deploy.yaml", 11)
    assert "set on ServiceAccount 'api' (sa.yaml:1)" in message


def test_pod_setting_wins_over_the_service_account(tmp_path, monkeypatch):
    found = outcomes(tmp_path, monkeypatch, {
        "sa.yaml": service_account("api", "shop", "false") + "---\n"
        + service_account("batch", "shop", "true"),
        "api.yaml": deployment("api", "shop", "serviceAccountName: api\n"
                                              "automountServiceAccountToken: true\n"),
        "batch.yaml": deployment("batch", "shop", "serviceAccountName: batch\n"
                                                  "automountServiceAccountToken: false\n"),
    })
    assert found["Deployment/shop/api"][:3] == (Outcome.FAIL, "api.yaml", 13)
    assert "(set in the pod spec)" in found["Deployment/shop/api"][3]
    assert found["Deployment/shop/batch"][0] is Outcome.PASS


def test_same_name_in_another_namespace_is_not_matched(tmp_path, monkeypatch):
    found = outcomes(tmp_path, monkeypatch, {
        "sa.yaml": service_account("api", "staging", "false"),
        "deploy.yaml": deployment("api", "production", "serviceAccountName: api\n"),
    })
    assert found["Deployment/production/api"][:3] == (Outcome.FAIL, "deploy.yaml", 11)


def test_service_account_not_scanned_keeps_the_default(tmp_path, monkeypatch):
    found = outcomes(tmp_path, monkeypatch, {
        "deploy.yaml": deployment("api", "shop", "serviceAccountName: api\n"),
    })
    outcome, _, line, message = found["Deployment/shop/api"]
    assert (outcome, line) == (Outcome.FAIL, 11)
    assert "no scanned ServiceAccount 'api'" in message


def test_neither_writing_a_namespace_matches(tmp_path, monkeypatch):
    found = outcomes(tmp_path, monkeypatch, {
        "sa.yaml": service_account("api", automount="false"),
        "deploy.yaml": deployment("api", pod_fields="serviceAccountName: api\n"),
    })
    assert found["Deployment/api"][0] is Outcome.PASS


@pytest.mark.parametrize(("pod_namespace", "account_namespace"), [(None, "shop"), ("shop", None)])
def test_one_namespace_not_written_is_unknown(tmp_path, monkeypatch, pod_namespace,
                                              account_namespace):
    found = outcomes(tmp_path, monkeypatch, {
        "sa.yaml": service_account("api", account_namespace, "false"),
        "deploy.yaml": deployment("api", pod_namespace, "serviceAccountName: api\n"),
    })
    (outcome, _, _, message), = found.values()
    assert outcome is Outcome.UNKNOWN
    assert "writes none" in message and "sa.yaml:1" in message


def test_unknown_namespace_that_cannot_change_the_result_stays_decided(tmp_path, monkeypatch):
    found = outcomes(tmp_path, monkeypatch, {
        "sa.yaml": service_account("api", "shop"),
        "deploy.yaml": deployment("api", pod_fields="serviceAccountName: api\n"),
    })
    assert found["Deployment/api"][0] is Outcome.FAIL


def test_nearest_of_several_definitions_applies(tmp_path, monkeypatch):
    write(tmp_path, {
        "dev/sa.yaml": service_account("api", "shop", "false"),
        "dev/deploy.yaml": deployment("api", "shop", "serviceAccountName: api\n"),
        "prod/sa.yaml": service_account("api", "shop", "true"),
        "prod/deploy.yaml": deployment("api", "shop", "serviceAccountName: api\n"),
    })
    monkeypatch.chdir(tmp_path)
    rule = next(r for r in load_rules() if r.id == RULE)
    result = scan(discover(["."]), [rule])
    assert sorted((f.path, f.outcome.value) for f in result.findings) == [
        ("dev/deploy.yaml", "pass"), ("prod/deploy.yaml", "fail")]


def test_equally_near_definitions_that_disagree_are_unknown(tmp_path, monkeypatch):
    found = outcomes(tmp_path, monkeypatch, {
        "a.yaml": service_account("api", "shop", "false"),
        "b.yaml": service_account("api", "shop", "true"),
        "deploy.yaml": deployment("api", "shop", "serviceAccountName: api\n"),
    })
    outcome, _, _, message = found["Deployment/shop/api"]
    assert outcome is Outcome.UNKNOWN
    assert "a.yaml:1" in message and "b.yaml:1" in message


def test_service_account_inside_a_list_is_found(tmp_path, monkeypatch):
    listed = ("apiVersion: v1\nkind: List\nitems:\n"
              + textwrap.indent(service_account("api", "shop", "false"), "  ").replace(
                  "  apiVersion", "- apiVersion", 1))
    found = outcomes(tmp_path, monkeypatch, {
        "list.yaml": listed,
        "deploy.yaml": deployment("api", "shop", "serviceAccountName: api\n"),
    })
    assert found["Deployment/shop/api"][0] is Outcome.PASS


# -- the index other Kubernetes joins reuse --------------------------------------------------
def _entities(tmp_path, files: dict[str, str]):
    from soc2lint.scan import parse_source

    write(tmp_path, files)
    entities = []
    for source in discover([str(tmp_path)]).sources:
        entities.extend(parse_source(source)[0])
    return entities


def test_index_finds_objects_by_kind_namespace_and_name(tmp_path):
    from soc2lint.kubeindex import ManifestIndex

    index = ManifestIndex(_entities(tmp_path, {
        "a.yaml": service_account("api", "shop") + "---\n" + service_account("api")
        + "---\n" + service_account("web", "shop") + "---\n" + service_account("api", "blog"),
        "b.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
                  "metadata: {name: reader}\nrules: []\n",
    }))
    lookup = index.find("ServiceAccount", "shop", "api")
    assert [e.address for e in lookup.found] == ["ServiceAccount/shop/api"]
    assert [e.address for e in lookup.possible] == ["ServiceAccount/api"]
    unwritten = index.find("ServiceAccount", None, "api")
    assert [e.address for e in unwritten.found] == ["ServiceAccount/api"]
    assert sorted(e.address for e in unwritten.possible) == [
        "ServiceAccount/blog/api", "ServiceAccount/shop/api"]
    in_shop = index.in_namespace("ServiceAccount", "shop")
    assert sorted(e.address for e in in_shop.found) == [
        "ServiceAccount/shop/api", "ServiceAccount/shop/web"]
    assert [e.address for e in index.find("ClusterRole", "shop", "reader").found] == [
        "ClusterRole/reader"]  # cluster-scoped: no namespace to match
    assert len(index.of_kind("ServiceAccount")) == 4


def test_namespace_of_a_pod_is_its_workloads():
    from soc2lint.kubeindex import same_namespace, written_namespace

    assert written_namespace({"namespace": "shop"}) == "shop"
    assert written_namespace({"namespace": ""}) is None
    assert written_namespace(None) is None
    assert same_namespace(None, None) is True
    assert same_namespace("shop", "shop") is True
    assert same_namespace("shop", "blog") is False
    assert same_namespace(None, "shop") is None


def test_service_account_name_defaults_and_alias():
    from soc2lint.derive.service_accounts import service_account_name

    assert service_account_name({}) == ("default", ())
    assert service_account_name({"serviceAccount": "old"}) == ("old", ("serviceAccount",))
    assert service_account_name({"serviceAccountName": "new", "serviceAccount": "old"}) == (
        "new", ("serviceAccountName",))


def test_derived_fields_are_on_the_pod_entity_once(tmp_path):
    from soc2lint.derive.kubernetes import derive_kubernetes

    entities = derive_kubernetes(_entities(tmp_path, {
        "sa.yaml": service_account("api", "shop", "false"),
        "deploy.yaml": deployment("api", "shop", "serviceAccountName: api\n"),
    }))
    pod = next(e for e in entities if e.kind == "pod")
    assert pod.data["service_account_name"] == "api"
    assert pod.data["effective_automount_token"] is False
    assert pod.data["automount_token_origin"].startswith("set on ServiceAccount 'api'")
    assert pod.locator.span(("service_account_name",)).line == 12
    assert pod.locator.span(("effective_automount_token",)) is None  # the pod spec, by fallback
    container = next(e for e in entities if e.kind == "container")
    assert "effective_automount_token" not in container.data


# -- files named one by one (pre-commit, pull requests): their siblings are context ----------
def test_a_named_file_finds_its_service_account_in_a_sibling_file(tmp_path, monkeypatch):
    """pre-commit passes only the staged Deployment; the ServiceAccount beside it still counts,
    is not reported itself, and a broken sibling neither stops the join nor adds a notification."""
    write(tmp_path, {"k8s/sa.yaml": service_account("api", "shop", "false"),
                     "k8s/broken.yaml": "kind: [\n",
                     "k8s/deploy.yaml": deployment("api", "shop", "serviceAccountName: api\n"),
                     "other/sa.yaml": service_account("web", "shop", "false"),
                     "k8s/web.yaml": deployment("web", "shop", "serviceAccountName: web\n")})
    monkeypatch.chdir(tmp_path)
    rule = next(r for r in load_rules() if r.id == RULE)
    result = scan(discover(["k8s/deploy.yaml", "k8s/web.yaml"]), [rule])
    found = {f.entity.address.removesuffix("/pod"): (f.outcome, f.path) for f in result.findings}
    assert found == {"Deployment/shop/api": (Outcome.PASS, "k8s/deploy.yaml"),
                     "Deployment/shop/web": (Outcome.FAIL, "k8s/web.yaml")}  # not a sibling
    assert result.notifications == () and result.files == ("k8s/deploy.yaml", "k8s/web.yaml")
