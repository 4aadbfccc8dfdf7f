"""Throughput benchmark for soc2lint on a synthetic, deterministic corpus (a benchmark, not a test).

Run from the checkout:

    .venv/bin/python benchmarks/bench.py --files 1500            # corpus in a temporary directory
    .venv/bin/python benchmarks/bench.py --files 300 --json      # also print the figures as JSON
    .venv/bin/python benchmarks/bench.py --corpus /tmp/corpus    # keep the corpus for later runs

The corpus is ~60% Terraform, ~25% multi-document Kubernetes YAML and ~15% GitHub Actions workflows,
generated from string templates with a seeded random.Random. Measured:
- full `soc2lint scan --format json` of the corpus, each run in its own subprocess wrapper: wall time
  (median of --repeat runs), files/s, MB/s and peak RSS of the scanning process (max over the runs);
- wall time of scanning one .tf and one .yaml file, interpreter start-up included (median of 5): what a
  pre-commit hook pays;
- the Terraform part alone, whole process: cold (empty parse cache, so the grammar tables are built and
  every file parsed, in a process pool when there are many), warm (every file from the cache), and
  with neither cache nor pool; MB/s of each;
- in process, best of --repeat, no cache: parsing every .tf file vs the full scan of the same files,
  i.e. the parse share of the Terraform scan;
- pull-request mode, the corpus committed to a git repository and 5 files then edited (warm cache):
  `--diff-base HEAD` alone (only the changed files are read), and as the GitHub Action runs it
  (`--diff-base HEAD -f github -f sarif=FILE -f summary=FILE`: the full scan for SARIF, the
  change for the rest).
The machine should be otherwise idle: the figures are wall-clock times.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOC2LINT = str(Path(sys.executable).parent / "soc2lint")
# Runs argv[1:] and prints its wall time and the peak RSS of that child only (ru_maxrss is in KiB).
WRAPPER = ("import json,resource,subprocess,sys,time\nt=time.perf_counter()\n"
           "rc=subprocess.call(sys.argv[1:])\nwall=time.perf_counter()-t\n"
           "print(json.dumps({'rc':rc,'wall':wall,"
           "'rss_mb':resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024}))")
EVENT_FIELDS = ["pull_request.title", "head_commit.message", "repository.name", "issue.body"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"]
TEAMS = ["payments", "identity", "search", "ledger", "platform", "growth", "billing", "infra"]
IMAGES = ["nginx:1.25", "redis:7.2", "ghcr.io/acme/api:v{v}", "python:3.12-slim", "envoyproxy/envoy:v1.29"]
ACTIONS = ["actions/checkout@v4", "actions/setup-python@v5", "actions/cache@v4",
           "actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11", "docker/login-action@v3",
           "actions/upload-artifact@v4", "aws-actions/configure-aws-credentials@v4"]


def gen_tf(rng: random.Random, i: int) -> str:
    team, env, b = rng.choice(TEAMS), rng.choice(["dev", "staging", "prod"]), rng.choice
    ingress = "".join(f"""
  ingress {{
    description = "allow {p}"
    from_port   = {p}
    to_port     = {p}
    protocol    = "tcp"
    cidr_blocks = [{b(['"0.0.0.0/0"', '"10.0.0.0/8"', 'var.office_cidr'])}]
  }}
""" for p in rng.sample([22, 80, 443, 3306, 5432, 6379, 8080], rng.randint(1, 3)))
    sse = "" if rng.random() < 0.4 else """
  server_side_encryption_configuration {
    rule {
      apply_server_side_encryption_by_default {
        sse_algorithm     = "aws:kms"
        kms_master_key_id = aws_kms_key.main.arn
      }
    }
  }"""
    ref = f"v{rng.randint(1, 9)}.{rng.randint(0, 20)}"
    return _unique(f"""# Generated stack {i} for team {team} ({env})
variable "environment" {{ default = "{env}" }}
variable "db_password" {{ sensitive = true }}
variable "office_cidr" {{
  description = "Office egress range"
  default     = "203.0.113.{rng.randint(0, 255)}/32"
}}

locals {{
  name = "{team}-{env}-{i}"
  tags = {{ Team = "{team}", Environment = var.environment, CostCenter = "{rng.randint(1000, 9999)}" }}
}}

resource "aws_kms_key" "main" {{
  description             = "${{local.name}} data key"
  deletion_window_in_days = {b([7, 14, 30])}
  enable_key_rotation     = {b(['true', 'false'])}
  policy                  = <<-EOT
    {{"Version": "2012-10-17", "Statement": [{{"Sid": "Root", "Effect": "Allow", "Action": "kms:*",
      "Resource": "*", "Principal": {{"AWS": "arn:aws:iam::{rng.randint(10**11, 10**12 - 1)}:root"}}}}]}}
  EOT
  tags = local.tags
}}

resource "aws_s3_bucket" "data" {{
  bucket = "${{local.name}}-data-{rng.randint(100, 999)}"
  acl    = "{b(['private', 'private', 'public-read', 'log-delivery-write'])}"
  versioning {{ enabled = {b(['true', 'false'])} }}{sse}
  logging {{ target_bucket = "{team}-access-logs" }}
  lifecycle_rule {{
    id      = "expire-tmp"
    enabled = true
    expiration {{ days = {rng.randint(1, 90)} }}
  }}
  tags = merge(local.tags, {{ Name = "${{local.name}}-data" }})
}}

resource "aws_security_group" "db" {{
  name   = "${{local.name}}-db"
  vpc_id = module.network.vpc_id
{ingress}}}

resource "aws_db_instance" "main" {{
  identifier              = "${{local.name}}-db"
  engine                  = "{b(['postgres', 'mysql'])}"
  instance_class          = "db.{b(['t3.micro', 'm6g.large', 'r6g.xlarge'])}"
  allocated_storage       = {rng.randint(20, 500)}
  storage_encrypted       = {b(['true', 'false'])}
  kms_key_id              = aws_kms_key.main.arn
  publicly_accessible     = {b(['false', 'false', 'true'])}
  backup_retention_period = {rng.randint(0, 35)}
  multi_az                = var.environment == "prod"
  vpc_security_group_ids  = [aws_security_group.db.id]
  password                = var.db_password # from the secret store
}}

module "network" {{
  source     = "git::https://github.com/acme/terraform-network.git?ref={ref}"
  cidr_block = "10.{rng.randint(0, 255)}.0.0/16"
  azs        = [for s in ["a", "b", "c"] : "{b(REGIONS)}${{s}}"]
}}
""", i)


_RENAMES = ('variable "environment"', 'var.environment', 'variable "db_password"', 'var.db_password',
            'variable "office_cidr"', 'var.office_cidr', '  name = "', 'local.name', '  tags = {',
            'local.tags', '"aws_kms_key" "main"', 'aws_kms_key.main', '"aws_s3_bucket" "data"',
            '"aws_security_group" "db"', 'aws_security_group.db', '"aws_db_instance" "main"',
            'module "network"', 'module.network')


def _unique(text: str, i: int) -> str:
    """Number every declared name after its file: the files of a directory form one module."""
    for old in _RENAMES:
        if old.endswith('"') and old.count('"') == 4:  # a block's labels
            new = old[:-1] + f'_{i}"'
        elif old.endswith(('= "', "= {")):  # a local's definition
            name = old.split("=")[0].rstrip()
            new = f"{name}_{i} " + old[len(name) + 1:]
        elif old.startswith(("variable ", "module ")):
            new = old[:-1] + f'_{i}"'
        else:
            new = f"{old}_{i}"
        text = text.replace(old, new)
    return text


def gen_k8s(rng: random.Random, i: int) -> str:
    app, team, b, port = f"svc-{i}", rng.choice(TEAMS), rng.choice, rng.choice([8080, 8000, 3000])
    image = b(IMAGES).format(v=f"{rng.randint(1, 9)}.{rng.randint(0, 30)}")
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  namespace: {team}
  labels: {{app: {app}, team: {team}}}
spec:
  replicas: {rng.randint(1, 6)}
  selector: {{matchLabels: {{app: {app}}}}}
  template:
    metadata: {{labels: {{app: {app}, team: {team}}}}}
    spec:
      serviceAccountName: {app}
      hostNetwork: {b(['false', 'false', 'true'])}
      containers:
        - name: {app}
          image: {image}
          ports: [{{containerPort: {port}, name: http}}]
          env:
            - {{name: LOG_LEVEL, value: {b(['info', 'debug', 'warn'])}}}
            - name: DB_PASSWORD
              valueFrom: {{secretKeyRef: {{name: {app}-db, key: password}}}}
          envFrom: [{{configMapRef: {{name: {app}-config}}}}]
          securityContext:
            privileged: {b(['false', 'false', 'true'])}
            runAsNonRoot: {b(['true', 'false'])}
            allowPrivilegeEscalation: {b(['false', 'true'])}
            readOnlyRootFilesystem: {b(['true', 'false'])}
            capabilities: {{drop: [ALL]}}
          resources:
            requests: {{cpu: {rng.randint(50, 500)}m, memory: {rng.randint(64, 512)}Mi}}
            limits: {{cpu: "{rng.randint(1, 4)}", memory: {rng.randint(1, 4)}Gi}}
---
apiVersion: v1
kind: Service
metadata: {{name: {app}, namespace: {team}}}
spec:
  type: {b(['ClusterIP', 'ClusterIP', 'LoadBalancer'])}
  selector: {{app: {app}}}
  ports: [{{port: 80, targetPort: http, protocol: TCP}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: {app}-config, namespace: {team}}}
data:
  FEATURE_FLAGS: "{','.join(rng.sample(['beta', 'fast-path', 'audit', 'v2-api'], 2))}"
  UPSTREAM_URL: http://{b(TEAMS)}.{team}.svc.cluster.local:{port}
  app.properties: |
    pool.size={rng.randint(2, 64)}
    timeout.ms={rng.randint(100, 5000)}
"""


def gen_workflow(rng: random.Random, i: int) -> str:
    trigger = rng.choice(["push", "pull_request", "pull_request_target", "workflow_dispatch"])
    perms = rng.choice(["permissions:\n  contents: read\n", "permissions: write-all\n", ""])
    jobs = []
    for j in range(rng.randint(2, 4)):
        steps = "".join(f"      - uses: {rng.choice(ACTIONS)}\n" for _ in range(rng.randint(1, 3)))
        needs = f"    needs: job{j - 1}\n" if j else ""
        jobs.append(f"""  job{j}:
    runs-on: {rng.choice(['ubuntu-latest', 'ubuntu-22.04', 'macos-14'])}
{needs}    timeout-minutes: {rng.randint(5, 60)}
    env:
      REGION: {rng.choice(REGIONS)}
    steps:
{steps}      - name: Build {j}
        run: |
          echo "ref ${{{{ github.ref }}}} sha ${{{{ github.sha }}}}"
          make build-{j} VERSION=${{{{ github.run_number }}}}
      - name: Report
        if: ${{{{ always() && github.event_name == '{trigger}' }}}}
        run: echo "${{{{ github.event.{rng.choice(EVENT_FIELDS)} }}}}"
        env:
          TOKEN: ${{{{ secrets.GITHUB_TOKEN }}}}
""")
    branches = "" if trigger == "workflow_dispatch" else "    branches: [main]\n"
    return f"name: ci-{i}\non:\n  {trigger}:\n{branches}{perms}jobs:\n" + "".join(jobs)


def build_corpus(root: Path, n: int, seed: int) -> tuple[int, int]:
    rng = random.Random(seed)
    n_tf, n_k8s = round(n * 0.60), round(n * 0.25)
    total = 0
    for i in range(n):
        if i < n_tf:
            path, text = root / "terraform" / f"stack{i // 20:03d}" / f"main{i}.tf", gen_tf(rng, i)
        elif i < n_tf + n_k8s:
            path, text = root / "k8s" / f"app{i:05d}.yaml", gen_k8s(rng, i)
        else:
            path, text = root / ".github" / "workflows" / f"ci{i:05d}.yml", gen_workflow(rng, i)
        path.parent.mkdir(parents=True, exist_ok=True)
        total += path.write_bytes(text.encode())
    return n, total


def run_scan(target: Path, out: Path, env: dict | None = None) -> dict:
    cmd = [sys.executable, "-c", WRAPPER, SOC2LINT, "scan", str(target), "--format", "json", "-o", str(out)]
    res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout)
    if res["rc"] not in (0, 1):  # 1 = failures found, which the corpus has on purpose
        sys.exit(f"soc2lint exited {res['rc']}")
    return res


def one_file_ms(path: Path, out: Path, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        rc = subprocess.run([SOC2LINT, "scan", str(path), "--format", "json", "-o", str(out)]).returncode
        times.append(time.perf_counter() - start)
        if rc not in (0, 1):
            sys.exit(f"soc2lint exited {rc} on {path}")
    return statistics.median(times) * 1000


def parse_share(tf_dir: Path, repeat: int) -> dict[str, float]:
    """In one process, no cache, no pool, best of `repeat`: parsing every .tf file (python-hcl2's
    Lark grammar) against the whole Terraform scan of them (parse, evaluate, derive, rules)."""
    import os

    from soc2lint.discovery import discover
    from soc2lint.parsers.terraform import parse_file
    from soc2lint.rules import load_rules
    from soc2lint.scan import scan

    os.environ["SOC2LINT_NO_CACHE"] = "1"
    os.environ["SOC2LINT_WORKERS"] = "1"
    paths = sorted(tf_dir.rglob("*.tf"))
    texts = [(str(p), p.read_text()) for p in paths]
    rules = load_rules()
    scan(discover([str(paths[0])]), rules)  # warm up the parser tables and imports
    parse_s = scan_s = float("inf")
    for _ in range(repeat):  # interleaved, so that load from other processes hits both alike
        start = time.perf_counter()
        for path, text in texts:
            parse_file(path, text)
        parse_s = min(parse_s, time.perf_counter() - start)
        start = time.perf_counter()
        result = scan(discover([str(tf_dir)]), rules)
        scan_s = min(scan_s, time.perf_counter() - start)
        assert len(result.files) == len(texts), (len(result.files), len(texts))
    return {"tf_parse_s": parse_s, "tf_scan_s": scan_s, "parse_share_pct": 100 * parse_s / scan_s}


def cache_figures(tf_dir: Path, out: Path, size: int) -> dict[str, float]:
    """Terraform only, whole process: cold (empty cache: grammar tables built, every file parsed,
    in a pool), warm (every file from the cache), and without cache and pool (one process)."""
    import os

    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="soc2lint-cache-") as cache:
        runs = {"cold": {"SOC2LINT_CACHE_DIR": cache}, "warm": {"SOC2LINT_CACHE_DIR": cache},
                "no_cache_one_process": {"SOC2LINT_NO_CACHE": "1", "SOC2LINT_WORKERS": "1"}}
        for name, extra in runs.items():
            env = {**os.environ, **extra}
            figures[f"tf_{name}_s"] = run_scan(tf_dir, out, env)["wall"]
            figures[f"tf_{name}_mb_per_s"] = size / 1e6 / figures[f"tf_{name}_s"]
    return figures


def diff_figures(root: Path, out: Path, repeat: int) -> dict[str, float]:
    """Wall time of a pull-request run after 5 files changed since the committed corpus."""
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(root), "-c", "user.name=bench", "-c", "user.email=b@example.com",
                        *args], check=True, capture_output=True)

    git("init", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "corpus")
    for path in sorted(root.glob("terraform/*/*.tf"))[:3] + sorted(root.glob("k8s/*.yaml"))[:2]:
        path.write_text(path.read_text() + "\n")
    figures = {}
    for name, extra in (("diff_scan_s", []),
                        ("action_pr_scan_s", ["-f", "github", "-f", f"sarif={out}.sarif",
                                              "-f", f"summary={out}.md"])):
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            rc = subprocess.run([SOC2LINT, "scan", str(root), "--diff-base", "HEAD", "-f", f"json={out}",
                                 *extra], capture_output=True).returncode
            times.append(time.perf_counter() - start)
            if rc not in (0, 1):
                sys.exit(f"soc2lint exited {rc} in pull-request mode")
        figures[name] = statistics.median(times)
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--corpus", type=Path, help="build the corpus here and keep it")
    ap.add_argument("--repeat", type=int, default=3, help="full scans (median) and in-process runs (best)")
    ap.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="soc2lint-bench-") as tmp:
        root = args.corpus or Path(tmp) / "corpus"
        if root.exists() and any(root.iterdir()):
            sys.exit(f"{root} is not empty; give a new or empty directory")
        files, size = build_corpus(root, args.files, args.seed)
        tf_size = sum(p.stat().st_size for p in (root / "terraform").rglob("*.tf"))
        out = Path(tmp) / "report.json"
        runs = [run_scan(root, out) for _ in range(args.repeat)]
        full = {"wall": statistics.median(r["wall"] for r in runs), "rss_mb": max(r["rss_mb"] for r in runs)}
        report = json.loads(out.read_text())
        figures: dict[str, float | int] = {
            "files": files, "mb": size / 1e6, "wall_s": full["wall"], "files_per_s": files / full["wall"],
            "mb_per_s": size / 1e6 / full["wall"], "peak_rss_mb": full["rss_mb"],
            "files_scanned": report["summary"]["files_scanned"], "errors": report["summary"]["errors"],
            "findings": len(report["results"]),
            "one_tf_ms": one_file_ms(min(root.glob("terraform/*/*.tf")), out),
            "one_yaml_ms": one_file_ms(min(root.glob("k8s/*.yaml")), out),
            "tf_files": len(list((root / "terraform").rglob("*.tf"))),
            "tf_mb": tf_size / 1e6,
            **cache_figures(root / "terraform", out, tf_size),
            **parse_share(root / "terraform", args.repeat),
        }
        figures.update(diff_figures(root, out, args.repeat))
    width = max(map(len, figures))
    for key, value in figures.items():
        shown = f"{value:>12,.2f}" if isinstance(value, float) else f"{value:>12,}"
        print(f"{key:<{width}}  {shown}")
    if args.json:
        print(json.dumps({k: round(v, 4) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
