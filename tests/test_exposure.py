"""Network exposure: ports per provider, and which sets of sources count as the whole internet."""

from __future__ import annotations

import pytest

from soc2lint.conditions import ConditionError, Context, check, evaluate
from soc2lint.derive.network import with_exposure
from soc2lint.discovery import discover
from soc2lint.evaluate.values import Template, Unknown
from soc2lint.model import Entity, Span
from soc2lint.rules import load_rules
from soc2lint.scan import scan

EVERY_SLASH_8 = [f"{i}.0.0.0/8" for i in range(256)]


def exposure(resource_type: str, data: dict) -> list[dict]:
    entity = Entity("terraform", "resource", resource_type, f"{resource_type}.x", "main.tf",
                    Span(1), data)
    return with_exposure(entity).data["exposure"]


def ports(items: list[dict]) -> list[tuple]:
    return [(item["protocol"], item["from_port"], item["to_port"]) for item in items]


def azure_rule(**fields) -> dict:
    return {"direction": "Inbound", "access": "Allow", "protocol": "Tcp",
            "source_address_prefix": "*", **fields}


def test_azure_any_protocol_keeps_the_rule_s_ports():
    items = exposure("azurerm_network_security_rule",
                     azure_rule(protocol="*", destination_port_range="80"))
    assert ports(items) == [("all", 80, 80)]


def test_aws_every_protocol_still_opens_every_port():
    items = exposure("aws_vpc_security_group_ingress_rule",
                     {"ip_protocol": "-1", "from_port": 80, "to_port": 80, "cidr_ipv4": "0.0.0.0/0"})
    assert ports(items) == [("all", 0, 65535)]


def test_gcp_all_protocols_without_ports_is_every_port():
    items = exposure("google_compute_firewall",
                     {"source_ranges": ["0.0.0.0/0"], "allow": [{"protocol": "all"}]})
    assert ports(items) == [("all", 0, 65535)]


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("destination_port_range", "22,3389", [(22, 22), (3389, 3389)]),
    ("destination_port_range", "80, 443", [(80, 80), (443, 443)]),
    ("destination_port_ranges", ["80", "8080,20-25"], [(80, 80), (8080, 8080), (20, 25)]),
    ("destination_port_range", "443,*", [(443, 443), (0, 65535)]),
])
def test_azure_comma_separated_ports_are_judged_one_by_one(field, value, expected):
    items = exposure("azurerm_network_security_rule", azure_rule(**{field: value}))
    assert [(i["from_port"], i["to_port"]) for i in items] == expected


def test_sources_reaching_a_port_are_joined_per_piece_of_the_range():
    low, high = EVERY_SLASH_8[:128], EVERY_SLASH_8[128:]
    items = exposure("aws_security_group", {"ingress": [
        {"protocol": "tcp", "from_port": 0, "to_port": 100, "cidr_blocks": low[:1]},
        {"protocol": "tcp", "from_port": 20, "to_port": 30, "cidr_blocks": low[1:]},
        {"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": high},
        {"protocol": "udp", "from_port": 0, "to_port": 65535, "cidr_blocks": ["0.0.0.0/0"]},
    ]})
    first = [i for i in items if i["source"] == low[0]]
    assert [(i["from_port"], i["to_port"], i["public"]) for i in first] == [
        (0, 19, False), (20, 21, False), (22, 22, True), (23, 30, False), (31, 100, False)]
    assert first[2]["sources"][0] == low[0] and set(first[2]["sources"]) == set(EVERY_SLASH_8)


@pytest.mark.parametrize(("sources", "expected"), [
    (["*"], True), (["Internet"], True), (["any"], True), (["0.0.0.0/0"], True), (["::/0"], True),
    (["0.0.0.0/1", "128.0.0.0/1"], True),  # each half is wider than a /8
    (["64.0.0.0/3"], True), (["2000::/3"], True), (["2001::/16"], True),
    (EVERY_SLASH_8, True),  # no single range is wide, together they are everything
    ([s for s in EVERY_SLASH_8 if s not in ("10.0.0.0/8", "127.0.0.0/8")], True),
    ([s for s in EVERY_SLASH_8 if s != "11.0.0.0/8"], False),
    (EVERY_SLASH_8[:128], False),
    (["10.0.0.0/8", "11.0.0.0/8", "2001:db8::/32"], False),
    (["fc00::/7", "fe80::/10", "::1"], False),  # wide, but private
    (["not-an-address", "300.1.2.3/8", "", "sg-0123", "VirtualNetwork"], False),
    ([], False),
])
def test_internet_wide_sources(sources, expected):
    assert _internet_wide(sources) is expected


def test_unresolved_sources_stay_undecided_unless_the_known_ones_decide():
    hole = Unknown("var.cidr")
    assert _internet_wide([hole, "10.0.0.0/8"]) is None
    assert _internet_wide([hole, "0.0.0.0/0"]) is True
    assert _internet_wide([Template("var.ip", (hole, "/32"))]) is False
    assert _internet_wide([Template("var.ip", ("0.0.0.0/", hole))]) is None


def test_the_prefix_limits_are_the_rule_s_to_set():
    data = {"ranges": ["64.0.0.0/3", "2001::/16"]}
    narrow = {"ipv4_shorter_than": 2, "ipv6_shorter_than": 16}
    assert evaluate({"path": "ranges", "internet_wide": narrow}, data, Context()) is False
    assert evaluate({"path": "ranges", "internet_wide": True}, data, Context()) is True


@pytest.mark.parametrize("limits", [False, "8", {"ipv4": 8}, {"ipv4_shorter_than": 40}])
def test_malformed_prefix_limits_are_refused_when_the_rule_loads(limits):
    with pytest.raises(ConditionError, match="internet_wide"):
        check({"path": "ranges", "internet_wide": limits})


ADMIN_TF = '''\
resource "azurerm_network_security_rule" "http_any_protocol" {
  direction                  = "Inbound"
  access                     = "Allow"
  protocol                   = "*"
  destination_port_range     = "80"
  source_address_prefix      = "*"
}

resource "azurerm_network_security_rule" "admin_in_one_string" {
  direction                  = "Inbound"
  access                     = "Allow"
  protocol                   = "Tcp"
  destination_port_range     = "22,3389"
  source_address_prefix      = "*"
}

resource "aws_security_group" "halves" {
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/1", "128.0.0.0/1"]
  }
}

resource "google_container_cluster" "named_only" {
  master_authorized_networks_config {
    cidr_blocks {
      display_name = "placeholder"
    }
  }
}

resource "google_sql_database_instance" "halves" {
  settings {
    ip_configuration {
      authorized_networks {
        value = "0.0.0.0/1"
      }
      authorized_networks {
        value = "128.0.0.0/1"
      }
    }
  }
}
'''

SERVICE_YAML = '''\
apiVersion: v1
kind: Service
metadata:
  name: halves
spec:
  type: LoadBalancer
  loadBalancerSourceRanges: ["0.0.0.0/1", "128.0.0.0/1"]
'''


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[tuple[str, str], str]:
    root = tmp_path_factory.mktemp("exposure")
    (root / "main.tf").write_text(ADMIN_TF)
    (root / "service.yaml").write_text(SERVICE_YAML)
    result = scan(discover([str(root)]), load_rules())
    return {(f.rule.id, f.entity.address): f.outcome.value for f in result.findings}


@pytest.mark.parametrize(("rule_id", "address", "expected"), [
    # any protocol, but only port 80
    ("azure-nsg-admin-ports-open", "azurerm_network_security_rule.http_any_protocol", "pass"),
    ("azure-nsg-admin-ports-open", "azurerm_network_security_rule.admin_in_one_string", "fail"),
    ("aws-sg-admin-ports-open", "aws_security_group.halves", "fail"),
    # an entry without cidr_block adds no range
    ("gcp-gke-master-authorized-networks", "google_container_cluster.named_only", "pass"),
    ("gcp-sql-no-open-authorized-network", "google_sql_database_instance.halves", "fail"),
    ("k8s-service-exposure", "Service/halves", "fail"),
])
def test_rules_judge_sources_as_addresses(outcomes, rule_id, address, expected):
    found = {v for (rule, name), v in outcomes.items() if rule == rule_id and name.endswith(address)}
    assert found == {expected}, sorted(k for k in outcomes if k[0] == rule_id)


def _internet_wide(sources: list) -> bool | None:
    return evaluate({"path": "sources", "internet_wide": True}, {"sources": sources}, Context())
