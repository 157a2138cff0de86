"""Renders, lints and validates the Agora Helm chart; run through scripts/helm-check.sh.

For every values file in helm/agora/ci/*-values.yaml: helm lint, helm template (the Helm 4 Go
SDK embedded in helm-python-sdk, no helm binary), yamllint on the output, kubernetes-validate
--strict against the lowest and the highest Kubernetes version the chart claims (Chart.yaml's
kubeVersion, capped at the newest kubernetes-validate knows), the Prometheus Operator kinds
(ServiceMonitor, PrometheusRule) against the vendored CRD schemas in scripts/schemas/, and
assertions on the rendered objects. Every agora_* metric an alert or the dashboard uses must
exist in src/telemetry/metrics.rs. Files in helm/agora/ci/invalid/ must be rejected by
values.schema.json. Prints "N passed, M failed".
"""

from __future__ import annotations

import base64
import json
import re
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import helm_python as helm
import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate import utils as kv_utils
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError
from yamllint import linter
from yamllint.config import YamlLintConfig

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "helm" / "agora"
OUT = ROOT / ".tools" / "helm-out"
RELEASE, NAMESPACE = "agora", "goproxy"


def kube_versions() -> list[str]:
    """The lowest and the highest Kubernetes version the chart claims (Chart.yaml kubeVersion,
    e.g. ">=1.27.0-0"), the highest capped at the newest version kubernetes-validate has."""
    claim = yaml.safe_load((CHART / "Chart.yaml").read_text())["kubeVersion"]
    low = re.search(r">=\s*v?(\d+)\.(\d+)", claim)
    if not low:
        raise SystemExit(f"Chart.yaml kubeVersion {claim!r} has no >= lower bound")
    known = sorted({tuple(map(int, v.split(".")[:2])) for v in kv_utils.all_versions()})
    high = re.search(r"<\s*v?(\d+)\.(\d+)", claim)
    top = max(v for v in known if not high or v < (int(high.group(1)), int(high.group(2))))
    bottom = (int(low.group(1)), int(low.group(2)))
    if bottom not in known:
        raise SystemExit(f"kubernetes-validate has no schemas for {bottom}, the chart's lowest Kubernetes")
    return [f"{bottom[0]}.{bottom[1]}.0", f"{top[0]}.{top[1]}.0"]


KUBE_VERSIONS = kube_versions()
# CRD kinds kubernetes-validate has no schema for: validated against vendored JSON schemas.
SCHEMAS = ROOT / "scripts" / "schemas"
CRD_SCHEMAS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): SCHEMAS / "servicemonitor_v1.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): SCHEMAS / "prometheusrule_v1.json",
}
CRD_VALIDATORS = {k: jsonschema.Draft7Validator(json.loads(p.read_text())) for k, p in CRD_SCHEMAS.items()}

# Rendered manifests follow toYaml's style (unindented sequences, long lines); lint for
# syntax, duplicate keys and stray whitespace, not for style.
YAMLLINT = YamlLintConfig(
    """
extends: default
rules:
  document-start: disable
  line-length: disable
  indentation: {spaces: consistent, indent-sequences: whatever}
  comments: {min-spaces-from-content: 1}
  truthy: {check-keys: false}
"""
)

CONFIG_RS = ROOT / "src" / "config" / "mod.rs"
METRICS_RS = ROOT / "src" / "telemetry" / "metrics.rs"
OPERATIONS_MD = ROOT / "docs" / "operations.md"


def exported_metrics(src: str) -> set[str]:
    """The series names src/telemetry/metrics.rs exports: its registry prefixes "agora_", and a
    histogram also has _bucket, _sum and _count series."""
    prefix = re.search(r'Registry::new_custom\(Some\("(\w+)"', src).group(1) + "_"
    names = set()
    for kind, name in re.findall(r'\b(HistogramOpts|Opts|IntCounter|IntGauge|Counter|Gauge)::new\(\s*"([a-z0-9_]+)"', src):
        names.add(prefix + name)
        if kind == "HistogramOpts":
            names |= {f"{prefix}{name}_{s}" for s in ("bucket", "sum", "count")}
    return names


METRICS = exported_metrics(METRICS_RS.read_text())
# Set outside the AGORA_* ConfigMap: the database URL comes from a Secret (secretKeyRef).
FROM_SECRET = {"AGORA_DATABASE_URL"}
# Not settings of the binary, but variables the ConfigMap must also carry.
EXTRA_VARS = ["HOME", "OTEL_SERVICE_NAME", "OTEL_TRACES_SAMPLER"]


def env_name(key: str) -> str:
    """A settings key as the binary's environment variable: "AGORA_" + the key upper-cased, with
    "__" for each "." of nesting (config::Environment::with_prefix("AGORA").separator("__")), so
    direct.refresh_secs -> AGORA_DIRECT__REFRESH_SECS and data_dir -> AGORA_DATA_DIR."""
    return "AGORA_" + key.upper().replace(".", "__")


def binary_settings(src: str) -> list[str]:
    """Every settings key of src/config/mod.rs, so the check cannot drift from the binary: the keys
    of its `.set_default("key", ...)` calls, plus the fields of `Settings` and of the nested
    `*Settings` structs it names (which adds keys without a default, such as the Option
    otel.endpoint)."""
    keys = set(re.findall(r'\.set_default\(\s*"([a-z0-9_.]+)"', src))
    structs = {m.group(1): re.findall(r"^\s*pub\s+([a-z0-9_]+)\s*:\s*([A-Za-z0-9_<>]+)\s*,", m.group(2), re.M)
               for m in re.finditer(r"pub struct (\w+)\s*\{(.*?)^\}", src, re.S | re.M)}

    def walk(struct: str, prefix: str) -> None:
        for field, ty in structs[struct]:
            if ty in structs:
                walk(ty, f"{prefix}{field}.")
            else:
                keys.add(prefix + field)

    walk("Settings", "")
    return sorted(keys)


# Every AGORA_* variable the binary reads, derived from src/config/mod.rs; all but FROM_SECRET must
# be keys of the chart's ConfigMap in every configuration (empty strings where unset).
BINARY_VARS = [env_name(k) for k in binary_settings(CONFIG_RS.read_text())]
SETTINGS = [v for v in BINARY_VARS if v not in FROM_SECRET] + EXTRA_VARS

# Where the chart's defaults knowingly differ from the binary's (everything else must match).
CHART_DIFFERS = {
    "listen": "0.0.0.0:<containerPort>: reachable from outside the container",
    "database_url": "from a Secret, no default",
    "data_dir": "/data, an emptyDir",
    "migrate_on_start": "false: the hook Job migrates",
    "log.format": "json for log collectors",
    "otel.service_name": "the release fullname",
}
# Constants of other crates that set_default uses.
CONSTANTS = {"gomod::zip::MAX_ZIP_FILE": 500 << 20}


def binary_defaults(src: str) -> dict[str, str]:
    """The set_default values of src/config/mod.rs as the strings the ConfigMap would hold."""
    out = {}
    for key, lit in re.findall(r'\.set_default\(\s*"([a-z0-9_.]+)"\s*,\s*(.+?)\s*\)\?', src):
        if m := re.fullmatch(r'"(.*)"', lit):
            out[key] = m.group(1)
        elif m := re.fullmatch(r"(\d+)(?:u64|u32|usize)?(?:\s*<<\s*(\d+))?", lit):
            out[key] = str(int(m.group(1)) << int(m.group(2) or 0))
        elif lit in ("true", "false"):
            out[key] = lit
        elif lit in CONSTANTS:
            out[key] = str(CONSTANTS[lit])
        else:
            raise AssertionError(f"set_default({key!r}, {lit}): add the constant to CONSTANTS")
    return out

passed = failed = 0


def check(name: str, fn: Callable[[], Any]) -> Any:
    """Runs one check; a falsy result or an exception fails it."""
    global passed, failed
    try:
        result = fn()
        ok = result is not False
    except Exception as e:  # noqa: BLE001 - every failure is reported, not raised
        ok, result = False, None
        detail = "".join(traceback.format_exception_only(type(e), e)).strip()
    else:
        detail = "" if ok else "returned False"
    if ok:
        passed += 1
        print(f"ok    {name}")
    else:
        failed += 1
        print(f"FAIL  {name}: {detail}")
    return result


def eq(got: Any, want: Any) -> bool:
    if got != want:
        raise AssertionError(f"got {got!r}, want {want!r}")
    return True


class Rendered:
    def __init__(self, manifests: dict[str, str]):
        self.text = manifests
        self.objects: list[dict] = []
        for path, body in sorted(manifests.items()):
            if path.endswith("NOTES.txt"):
                continue
            self.objects += [d for d in yaml.safe_load_all(body) if d]

    def all(self, kind: str) -> list[dict]:
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str, name: str | None = None) -> dict:
        found = [o for o in self.all(kind) if name is None or o["metadata"]["name"] == name]
        if len(found) != 1:
            raise AssertionError(f"{len(found)} {kind} {name or ''} objects")
        return found[0]

    def notes(self) -> str:
        return next(v for k, v in self.text.items() if k.endswith("NOTES.txt"))

    def yaml_text(self) -> str:
        return "".join(
            f"---\n# Source: {k}\n{v.strip()}\n"
            for k, v in sorted(self.text.items())
            if not k.endswith("NOTES.txt") and v.strip()
        )


def container(r: Rendered, kind: str = "Deployment") -> dict:
    return r.one(kind)["spec"]["template"]["spec"]["containers"][0]


def env_of(c: dict) -> dict[str, dict]:
    return {e["name"]: e for e in c.get("env", [])}


def volumes(r: Rendered) -> dict[str, dict]:
    return {v["name"]: v for v in r.one("Deployment")["spec"]["template"]["spec"]["volumes"]}


def mounts(r: Rendered) -> dict[str, dict]:
    return {m["mountPath"]: m for m in container(r)["volumeMounts"]}


def config(r: Rendered) -> dict[str, str]:
    return r.one("ConfigMap", RELEASE)["data"]


def secret_ref(r: Rendered, kind: str) -> tuple[str, str]:
    ref = env_of(container(r, kind))["AGORA_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    return ref["name"], ref["key"]


def hooks(obj: dict) -> tuple[str, str, str]:
    a = obj["metadata"]["annotations"]
    return a["helm.sh/hook"], a["helm.sh/hook-weight"], a["helm.sh/hook-delete-policy"]


def common(label: str, r: Rendered) -> None:
    """What every configuration must get right."""
    dep = r.one("Deployment")
    pod = dep["spec"]["template"]["spec"]
    c = container(r)
    sc = c["securityContext"]
    check(f"{label}: container readOnlyRootFilesystem, no privilege escalation, drop ALL",
          lambda: eq((sc["readOnlyRootFilesystem"], sc["allowPrivilegeEscalation"],
                      sc["capabilities"]["drop"]), (True, False, ["ALL"])))
    check(f"{label}: pod runAsNonRoot uid 10001, seccomp RuntimeDefault",
          lambda: eq((pod["securityContext"]["runAsNonRoot"], pod["securityContext"]["runAsUser"],
                      pod["securityContext"]["seccompProfile"]["type"]), (True, 10001, "RuntimeDefault")))
    check(f"{label}: RollingUpdate with maxUnavailable 0",
          lambda: eq((dep["spec"]["strategy"]["type"],
                      dep["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"]), ("RollingUpdate", 0)))
    check(f"{label}: liveness /healthz, readiness /readyz",
          lambda: eq((c["livenessProbe"]["httpGet"]["path"], c["readinessProbe"]["httpGet"]["path"]),
                     ("/healthz", "/readyz")))
    check(f"{label}: /data, /tmp and HOME are emptyDirs",
          lambda: all("emptyDir" in volumes(r)[mounts(r)[p]["name"]] for p in ("/data", "/tmp", "/home/agora")))
    check(f"{label}: env from the ConfigMap, every setting present",
          lambda: eq((c["envFrom"][0]["configMapRef"]["name"], sorted(set(SETTINGS) - set(config(r)))),
                     (RELEASE, [])))
    check(f"{label}: AGORA_DATABASE_URL from a Secret (secretKeyRef), not the ConfigMap",
          lambda: eq(("AGORA_DATABASE_URL" in config(r), sorted(env_of(c)["AGORA_DATABASE_URL"]["valueFrom"])),
                     (False, ["secretKeyRef"])))
    check(f"{label}: probes use HTTPS exactly when the pod serves TLS",
          lambda: eq({c[p]["httpGet"]["scheme"] for p in ("startupProbe", "livenessProbe", "readinessProbe")},
                     {"HTTPS" if config(r)["AGORA_TLS__CERT_FILE"] else "HTTP"}))
    check(f"{label}: AGORA_OTEL__* match the OTEL_* variables",
          lambda: eq((config(r)["AGORA_OTEL__ENDPOINT"], config(r)["AGORA_OTEL__SERVICE_NAME"]),
                     (config(r).get("OTEL_EXPORTER_OTLP_ENDPOINT", ""), config(r)["OTEL_SERVICE_NAME"])))
    check(f"{label}: listens on 0.0.0.0:3000 and does not migrate on start (the Job does)",
          lambda: eq((config(r)["AGORA_LISTEN"], config(r)["AGORA_MIGRATE_ON_START"]), ("0.0.0.0:3000", "false")))
    ann = pod_annotations(r)
    check(f"{label}: config and secret checksums on the pod template",
          lambda: all(len(ann.get(k, "")) == 64 for k in ("checksum/config", "checksum/secret")))
    job = r.one("Job")
    check(f"{label}: migration Job is a pre-install/pre-upgrade hook running 'agora migrate'",
          lambda: eq((hooks(job), container(r, "Job")["args"]),
                     (("pre-install,pre-upgrade", "0", "before-hook-creation,hook-succeeded"), ["migrate"])))
    check(f"{label}: Job has the same restrictive securityContext",
          lambda: eq(container(r, "Job")["securityContext"], sc))
    selector = dep["spec"]["selector"]["matchLabels"]
    others = {f"{o['kind']}/{o['metadata']['name']}": t for o in r.objects for t in [pod_template(o)]
              if t is not None and o["kind"] != "Deployment"}
    check(f"{label}: no other pod ({', '.join(sorted(others))}) carries the Deployment's selector labels (PDB/HPA)",
          lambda: eq([k for k, t in others.items()
                      if all(t["metadata"]["labels"].get(lk) == lv for lk, lv in selector.items())], []))
    check(f"{label}: every pod has enableServiceLinks: false",
          lambda: eq({k: t["spec"].get("enableServiceLinks") for k, t in others.items()}
                     | {"Deployment": pod.get("enableServiceLinks")},
                     {k: False for k in [*others, "Deployment"]}))
    check(f"{label}: readiness probe timeout exceeds AGORA_DATABASE__READINESS_TIMEOUT_MS",
          lambda: c["readinessProbe"]["timeoutSeconds"] * 1000 > int(config(r)["AGORA_DATABASE__READINESS_TIMEOUT_MS"]))
    check(f"{label}: OTLP protocol is one agora speaks, the same in OTEL_* and AGORA_OTEL__*",
          lambda: eq((config(r)["AGORA_OTEL__PROTOCOL"] in ("http/protobuf", "grpc"),
                      config(r).get("OTEL_EXPORTER_OTLP_PROTOCOL", config(r)["AGORA_OTEL__PROTOCOL"])),
                     (True, config(r)["AGORA_OTEL__PROTOCOL"])))
    check(f"{label}: every agora_* series in alerts and dashboards exists in src/telemetry/metrics.rs",
          lambda: eq(sorted(used_metrics(r) - METRICS), []))
    tests = r.all("Pod")
    if tests:
        t = tests[0]
        script = t["spec"]["containers"][0]["command"][-1]
        asks = ("/readyz" in script and "/@v/list" in script if not config(r)["AGORA_TLS__CERT_FILE"]
                else "accepts connections" in script and "/readyz" not in script)  # bash speaks no TLS
        check(f"{label}: helm test pod (hook test) runs the agora image and asks /readyz and a list (https: connects)",
              lambda: eq((t["metadata"]["annotations"]["helm.sh/hook"], t["spec"]["containers"][0]["image"],
                          t["spec"]["restartPolicy"], "/dev/tcp/" in script, asks),
                         ("test", c["image"], "Never", True, True)))
        check(f"{label}: helm test pod runs as the same non-root user, read-only",
              lambda: eq((t["spec"]["securityContext"]["runAsUser"], t["spec"]["containers"][0]["securityContext"]),
                         (10001, sc)))


def pod_template(o: dict) -> dict | None:
    """The pod (template) of a workload object, or None."""
    if o["kind"] in ("Deployment", "Job"):
        return o["spec"]["template"]
    if o["kind"] == "CronJob":
        return o["spec"]["jobTemplate"]["spec"]["template"]
    if o["kind"] == "Pod":
        return o
    return None


def used_metrics(r: Rendered) -> set[str]:
    """agora_* series named by the PrometheusRule's expressions and the dashboard's queries."""
    exprs = [rule["expr"] for o in r.all("PrometheusRule") for g in o["spec"]["groups"] for rule in g["rules"]]
    for cm in r.all("ConfigMap"):
        for key, text in (cm.get("data") or {}).items():
            if key.endswith(".json"):
                exprs += [t["expr"] for p in json.loads(text)["panels"] for t in p.get("targets", [])]
    return {m for e in exprs for m in re.findall(r"\bagora_[a-z0-9_]+", str(e))}


def pod_annotations(r: Rendered) -> dict:
    return r.one("Deployment")["spec"]["template"]["metadata"]["annotations"]


def specific_default(r: Rendered) -> None:
    L = "default"
    check(f"{L}: replicas 2, Service ClusterIP, no HPA/Ingress/ServiceMonitor",
          lambda: eq((r.one("Deployment")["spec"]["replicas"], r.one("Service")["spec"]["type"],
                      [o["kind"] for o in r.objects if o["kind"] in ("HorizontalPodAutoscaler", "Ingress", "ServiceMonitor")]),
                     (2, "ClusterIP", [])))
    check(f"{L}: PDB maxUnavailable 1", lambda: eq(r.one("PodDisruptionBudget")["spec"], {
        "maxUnavailable": 1, "selector": r.one("Deployment")["spec"]["selector"]}))
    check(f"{L}: database URL from the chart's Secret",
          lambda: eq((secret_ref(r, "Deployment"),
                      base64.b64decode(r.one("Secret", "agora-database")["data"]["database-url"]).decode()),
                     (("agora-database", "database-url"),
                      "postgres://agora:secret@postgres.db.svc:5432/agora?sslmode=require")))
    mig = r.one("Secret", "agora-migrate")
    check(f"{L}: Job reads a hook Secret created before it (weight -10 < 0)",
          lambda: eq((secret_ref(r, "Job"), hooks(mig)[:2]),
                     (("agora-migrate", "database-url"), ("pre-install,pre-upgrade", "-10"))))
    check(f"{L}: no git credential volumes",
          lambda: eq(sorted(volumes(r)), ["data", "home", "tmp"]))
    check(f"{L}: large byte counts rendered as integers",
          lambda: eq((config(r)["AGORA_CACHE__DISK_BYTES"], config(r)["AGORA_FETCH__MAX_ZIP_BYTES"]),
                     ("2147483648", "524288000")))
    check(f"{L}: NOTES print the GOPROXY line",
          lambda: "export GOPROXY=http://localhost:8080" in r.notes())
    defaults = binary_defaults(CONFIG_RS.read_text())
    check(f"{L}: every setting defaults to the binary's default (src/config/mod.rs) but {', '.join(CHART_DIFFERS)}",
          lambda: eq({k: (config(r).get(env_name(k)), v) for k, v in defaults.items()
                      if k not in CHART_DIFFERS and config(r).get(env_name(k)) != v}, {}))
    dep = r.one("Deployment")
    spread = dep["spec"]["template"]["spec"]["topologySpreadConstraints"]
    check(f"{L}: pods spread across zones, then nodes (ScheduleAnyway, current ReplicaSet only)",
          lambda: eq([(t["topologyKey"], t["maxSkew"], t["whenUnsatisfiable"], t["labelSelector"]["matchLabels"],
                       t["matchLabelKeys"]) for t in spread],
                     [(k, 1, "ScheduleAnyway", dep["spec"]["selector"]["matchLabels"], ["pod-template-hash"])
                      for k in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")]))
    check(f"{L}: the selector names the server component; the migration pods are component migrate",
          lambda: eq((dep["spec"]["selector"]["matchLabels"].get("app.kubernetes.io/component"),
                      r.one("Job")["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]),
                     ("server", "migrate")))
    check(f"{L}: no NetworkPolicy, PrometheusRule, CronJob; a helm test pod listing golang.org/x/text",
          lambda: eq(([o["kind"] for o in r.objects if o["kind"] in ("NetworkPolicy", "PrometheusRule", "CronJob")],
                      "/golang.org/x/text/@v/list" in r.one("Pod")["spec"]["containers"][0]["command"][-1]), ([], True)))
    check(f"{L}: readiness pool timeout 1000 ms under a 3 s probe; publish patterns default to config.private",
          lambda: eq((config(r)["AGORA_DATABASE__READINESS_TIMEOUT_MS"], container(r)["readinessProbe"]["timeoutSeconds"],
                      config(r)["AGORA_ADMIN__PUBLISH_PATTERNS"]), ("1000", 3, "")))
    check(f"{L}: no OTLP endpoint, so no OTEL_EXPORTER_OTLP_*; protocol http/protobuf",
          lambda: eq(([k for k in config(r) if k.startswith("OTEL_EXPORTER_OTLP")], config(r)["AGORA_OTEL__PROTOCOL"]),
                     ([], "http/protobuf")))
    check(f"{L}: no rules file, no TLS, no policy ConfigMap or volumes",
          lambda: eq((config(r)["AGORA_POLICY__RULES_FILE"], config(r)["AGORA_TLS__CERT_FILE"],
                      config(r)["AGORA_TLS__KEY_FILE"], [o["metadata"]["name"] for o in r.all("ConfigMap")],
                      sorted(volumes(r))), ("", "", "", [RELEASE], ["data", "home", "tmp"])))


def specific_lb_hpa(r: Rendered) -> None:
    L = "lb-hpa"
    svc = r.one("Service")["spec"]
    check(f"{L}: Service LoadBalancer :8080, Local traffic policy, source ranges",
          lambda: eq((svc["type"], svc["ports"][0]["port"], svc["externalTrafficPolicy"],
                      svc["loadBalancerSourceRanges"]), ("LoadBalancer", 8080, "Local", ["10.0.0.0/8"])))
    hpa = r.one("HorizontalPodAutoscaler")["spec"]
    check(f"{L}: HPA 3..12 on cpu 60% and memory 75%, targeting the Deployment",
          lambda: eq((hpa["minReplicas"], hpa["maxReplicas"], hpa["scaleTargetRef"]["name"],
                      [(m["resource"]["name"], m["resource"]["target"]["averageUtilization"]) for m in hpa["metrics"]]),
                     (3, 12, "agora", [("cpu", 60), ("memory", 75)])))
    check(f"{L}: Deployment leaves replicas to the HPA",
          lambda: "replicas" not in r.one("Deployment")["spec"])
    check(f"{L}: PDB minAvailable 50%",
          lambda: eq(r.one("PodDisruptionBudget")["spec"].get("minAvailable"), "50%"))
    v, m = volumes(r), mounts(r)
    check(f"{L}: rules from existingConfigMap goproxy-rules (key policy.toml) at /etc/agora/policy/rules.toml",
          lambda: eq((v["policy"]["configMap"], m["/etc/agora/policy"].get("readOnly"), "subPath" in m["/etc/agora/policy"],
                      config(r)["AGORA_POLICY__RULES_FILE"], [o["metadata"]["name"] for o in r.all("ConfigMap")]),
                     ({"name": "goproxy-rules", "items": [{"key": "policy.toml", "path": "rules.toml"}]}, True, False,
                      "/etc/agora/policy/rules.toml", [RELEASE])))
    check(f"{L}: admin off, two checksum databases with an upstream override",
          lambda: eq((config(r)["AGORA_ADMIN__ENABLED"], config(r)["AGORA_SUMDB__NAMES"], config(r)["AGORA_SUMDB__UPSTREAM"]),
                     ("false", "sum.golang.org,sum.example.com", "sum.example.com=https://sumdb.internal.example.com")))
    check(f"{L}: NOTES print the load balancer GOPROXY line",
          lambda: "export GOPROXY=http://$LB:8080" in r.notes())


def specific_private(r: Rendered) -> None:
    L = "existing-secret-private-git-ingress"
    check(f"{L}: replicas 3, image from values",
          lambda: eq((r.one("Deployment")["spec"]["replicas"], container(r)["image"]),
                     (3, "registry.example.com/platform/agora:0.1.0")))
    check(f"{L}: Deployment and Job read existingSecret agora-db/url",
          lambda: eq((secret_ref(r, "Deployment"), secret_ref(r, "Job")), (("agora-db", "url"),) * 2))
    check(f"{L}: the chart creates no database Secret",
          lambda: eq([s["metadata"]["name"] for s in r.all("Secret")], ["agora-git"]))
    v, m = volumes(r), mounts(r)
    check(f"{L}: ~/.netrc from existing Secret agora-git-https",
          lambda: eq((v["git-netrc"]["secret"]["secretName"], v["git-netrc"]["secret"]["items"],
                      m["/home/agora/.netrc"]["subPath"]),
                     ("agora-git-https", [{"key": "netrc", "path": "netrc"}], "netrc")))
    check(f"{L}: ~/.ssh holds id_ed25519 and known_hosts, read-only, mode 0440",
          lambda: eq((sorted(i["path"] for s in v["git-ssh"]["projected"]["sources"] for i in s["secret"]["items"]),
                      m["/home/agora/.ssh"]["readOnly"], oct(v["git-ssh"]["projected"]["defaultMode"])),
                     (["id_ed25519", "known_hosts"], True, "0o440")))
    check(f"{L}: chart git Secret holds only the content-given items",
          lambda: eq(sorted(r.one("Secret", "agora-git")["data"]), ["known_hosts", "ssh-privatekey"]))
    check(f"{L}: ~/.gitconfig from its own ConfigMap",
          lambda: eq((v["gitconfig"]["configMap"]["name"], m["/home/agora/.gitconfig"]["subPath"],
                      "insteadOf" in r.one("ConfigMap", "agora-gitconfig")["data"]["gitconfig"]),
                     ("agora-gitconfig", "gitconfig", True)))
    check(f"{L}: AGORA_PRIVATE and the OTLP endpoint in the ConfigMap",
          lambda: eq((config(r)["AGORA_PRIVATE"], config(r)["OTEL_EXPORTER_OTLP_ENDPOINT"],
                      config(r)["OTEL_TRACES_SAMPLER"], "OTEL_TRACES_SAMPLER_ARG" in config(r)),
                     ("git.example.com/*,github.com/example-org/*",
                      "http://otel-collector.observability.svc:4318", "parentbased_always_on", False)))
    ing = r.one("Ingress")["spec"]
    check(f"{L}: Ingress host, class and TLS",
          lambda: eq((ing["ingressClassName"], ing["rules"][0]["host"], ing["tls"][0]["secretName"],
                      ing["rules"][0]["http"]["paths"][0]["backend"]["service"]), (
              "nginx", "goproxy.example.com", "goproxy-tls", {"name": "agora", "port": {"name": "http"}})))
    sm = r.one("ServiceMonitor")
    check(f"{L}: ServiceMonitor (monitoring.coreos.com/v1) scrapes /metrics on port http every 15s",
          lambda: eq((sm["apiVersion"], [{k: e[k] for k in ("port", "path", "interval", "scrapeTimeout")}
                                          for e in sm["spec"]["endpoints"]], sm["metadata"]["labels"]["release"],
                      sm["spec"]["selector"]["matchLabels"]),
                     ("monitoring.coreos.com/v1", [{"port": "http", "path": "/metrics", "interval": "15s",
                                                    "scrapeTimeout": "10s"}], "prometheus",
                      r.one("Deployment")["spec"]["selector"]["matchLabels"])))
    cfg = config(r)
    check(f"{L}: inline rules in ConfigMap agora-policy, mounted read-only as a directory (hot reload)",
          lambda: eq((v["policy"]["configMap"], m["/etc/agora/policy"].get("readOnly"), "subPath" in m["/etc/agora/policy"],
                      cfg["AGORA_POLICY__RULES_FILE"],
                      'pattern = "github.com/evil/*"' in r.one("ConfigMap", "agora-policy")["data"]["rules.toml"]),
                     ({"name": "agora-policy", "items": [{"key": "rules.toml", "path": "rules.toml"}]}, True, False,
                      "/etc/agora/policy/rules.toml", True)))
    check(f"{L}: policy reload and hook settings",
          lambda: eq([cfg[f"AGORA_POLICY__{k}"] for k in ("RELOAD_SECS", "HOOK_URL", "HOOK_TIMEOUT_SECS", "HOOK_FAIL_OPEN", "HOOK_CACHE_SECS")],
                     ["10", "http://module-vetting.security.svc:8080/check", "5", "true", "300"]))
    check(f"{L}: TLS Secret agora-serving-tls mounted read-only (0440) at /etc/agora/tls, env points into it",
          lambda: eq((v["tls"]["secret"]["secretName"], [i["key"] for i in v["tls"]["secret"]["items"]],
                      oct(v["tls"]["secret"]["defaultMode"]), m["/etc/agora/tls"]["readOnly"],
                      cfg["AGORA_TLS__CERT_FILE"], cfg["AGORA_TLS__KEY_FILE"]),
                     ("agora-serving-tls", ["tls.crt", "tls.key"], "0o440", True,
                      "/etc/agora/tls/tls.crt", "/etc/agora/tls/tls.key")))
    check(f"{L}: client auth on with /version open",
          lambda: eq((cfg["AGORA_AUTH__ENABLED"], cfg["AGORA_AUTH__OPEN_PATHS"]),
                     ("true", "/healthz,/readyz,/metrics,/version")))
    check(f"{L}: every direct setting passed on",
          lambda: eq([cfg[f"AGORA_DIRECT__{k}"] for k in ("GIT", "MAX_GIT_PROCESSES", "CACHE_BYTES", "REFRESH_SECS",
                                                          "GIT_CONFIG_GLOBAL", "ALLOW_PRIVATE_NETWORKS", "ALLOWED_CIDRS",
                                                          "INSECURE", "HOSTS")],
                     ["/usr/bin/git", "12", "8589934592", "30", "/home/agora/.gitconfig", "true", "10.0.0.0/8,fd00::/8",
                      "git.lab.example.com", "git.example.com=10.1.2.3:443"]))
    check(f"{L}: sumdb and admin settings passed on",
          lambda: eq([cfg[k] for k in ("AGORA_SUMDB__PRIVATE", "AGORA_SUMDB__VERIFY_ZIPS", "AGORA_ADMIN__ENABLED",
                                       "AGORA_ADMIN__MAX_PUBLISH_BYTES", "AGORA_ADMIN__USAGE_FLUSH_SECS")],
                     ["git.example.com/*", "false", "true", "104857600", "120"]))
    check(f"{L}: ServiceMonitor scrapes https with the given tlsConfig",
          lambda: eq((sm["spec"]["endpoints"][0].get("scheme"), sm["spec"]["endpoints"][0]["tlsConfig"]["serverName"]),
                     ("https", "agora.goproxy.svc")))
    check(f"{L}: NOTES mention client auth tokens",
          lambda: "agora token create" in r.notes())
    ann = r.one("Ingress")["metadata"]["annotations"]
    check(f"{L}: the Ingress accepts bodies as large as admin.maxPublishBytes, streamed",
          lambda: eq((ann["nginx.ingress.kubernetes.io/proxy-body-size"], ann["nginx.ingress.kubernetes.io/proxy-request-buffering"]),
                     (f"{int(cfg['AGORA_ADMIN__MAX_PUBLISH_BYTES']) >> 20}m", "off")))
    check(f"{L}: NOTES print the https GOPROXY line and GONOSUMDB",
          lambda: "export GOPROXY=https://goproxy.example.com" in r.notes() and "GONOSUMDB" in r.notes())


def agora_pods(r: Rendered) -> dict[str, dict]:
    """The pod specs that run agora against the database: replicas, migration Job, retention CronJob."""
    return {o["kind"]: pod_template(o)["spec"] for o in r.objects if o["kind"] in ("Deployment", "Job", "CronJob")}


def specific_all_features(r: Rendered) -> None:
    L = "all-features"
    pods = agora_pods(r)
    check(f"{L}: replicas, migration Job and retention CronJob all run", lambda: eq(sorted(pods), ["CronJob", "Deployment", "Job"]))
    check(f"{L}: extraEnv, extraEnvFrom, extraVolumes and extraVolumeMounts reach every agora container",
          lambda: eq({k: ("SSL_CERT_DIR" in env_of(p["containers"][0]),
                          {"secretRef": {"name": "agora-extra-env"}} in p["containers"][0].get("envFrom", []),
                          any(v["name"] == "corp-ca" and v["secret"]["secretName"] == "corp-ca" for v in p["volumes"]),
                          any(m["name"] == "corp-ca" and m["mountPath"] == "/etc/agora/corp-ca" and m["readOnly"]
                              for m in p["containers"][0]["volumeMounts"])) for k, p in pods.items()},
                     {k: (True, True, True, True) for k in pods}))
    check(f"{L}: initContainers, podLabels and podAnnotations on the serving pods only",
          lambda: eq({k: ([c["name"] for c in p.get("initContainers", [])],) for k, p in pods.items()}
                     | {"labels": [o["kind"] for o in r.objects if (t := pod_template(o)) and t["metadata"]["labels"].get("team")],
                        "annotations": [o["kind"] for o in r.objects if (t := pod_template(o))
                                        and (t["metadata"].get("annotations") or {}).get("example.com/owner")]},
                     {"Deployment": (["wait-for-db"],), "Job": ([],), "CronJob": ([],),
                      "labels": ["Deployment"], "annotations": ["Deployment"]}))
    check(f"{L}: topologySpreadConstraints as given replace the defaults",
          lambda: eq([(t["topologyKey"], t["whenUnsatisfiable"]) for t in
                      r.one("Deployment")["spec"]["template"]["spec"]["topologySpreadConstraints"]],
                     [("topology.kubernetes.io/zone", "DoNotSchedule")]))
    cfg = config(r)
    check(f"{L}: OTLP over gRPC to :4317; readiness 1500 ms under a 2 s probe; publish patterns passed on",
          lambda: eq((cfg["OTEL_EXPORTER_OTLP_PROTOCOL"], cfg["AGORA_OTEL__PROTOCOL"], cfg["OTEL_EXPORTER_OTLP_ENDPOINT"],
                      cfg["AGORA_DATABASE__READINESS_TIMEOUT_MS"], container(r)["readinessProbe"]["timeoutSeconds"],
                      cfg["AGORA_ADMIN__PUBLISH_PATTERNS"]),
                     ("grpc", "grpc", "http://otel-collector.observability.svc:4317", "1500", 2,
                      "git.example.com/*,example.com/internal/*")))
    np = r.one("NetworkPolicy")["spec"]
    release = {"app.kubernetes.io/name": "agora", "app.kubernetes.io/instance": "agora"}
    check(f"{L}: NetworkPolicy covers every pod of the release, ingress and egress",
          lambda: eq((np["podSelector"]["matchLabels"], np["policyTypes"]), (release, ["Ingress", "Egress"])))
    check(f"{L}: ingress only to port http, from the release's pods, the ingress controller and Prometheus",
          lambda: eq((len(np["ingress"]), np["ingress"][0]["ports"], np["ingress"][0]["from"][0],
                      [f["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for f in np["ingress"][0]["from"][1:]]),
                     (1, [{"port": "http", "protocol": "TCP"}], {"podSelector": {"matchLabels": release}},
                      ["ingress-nginx", "monitoring"])))
    eg = {tuple((p["port"], p["protocol"]) for p in e["ports"]): e.get("to") for e in np["egress"]}
    check(f"{L}: egress to kube-dns on UDP and TCP 53",
          lambda: eq(eg[((53, "UDP"), (53, "TCP"))][0]["podSelector"]["matchLabels"], {"k8s-app": "kube-dns"}))
    check(f"{L}: egress to PostgreSQL 5432 (any address), upstreams on 443 and 22 outside private ranges",
          lambda: eq((eg[((5432, "TCP"),)], [(b["ipBlock"]["cidr"], "10.0.0.0/8" in b["ipBlock"]["except"] or "fc00::/7" in b["ipBlock"]["except"])
                                             for b in eg[((443, "TCP"), (22, "TCP"))]]),
                     (None, [("0.0.0.0/0", True), ("::/0", True)])))
    check(f"{L}: egress to the OTLP collector on 4317 (observability), the hook on 8443, the release's server pods on http",
          lambda: eq((eg[((4317, "TCP"),)][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
                      ((8443, "TCP"),) in eg, eg[(("http", "TCP"),)][0]["podSelector"]["matchLabels"]),
                     ("observability", True, r.one("Deployment")["spec"]["selector"]["matchLabels"])))
    rules = {rule.get("alert"): rule for rule in r.one("PrometheusRule")["spec"]["groups"][0]["rules"]}
    builtin = ["AgoraTargetDown", "AgoraHighErrorRatio", "AgoraUpstreamFailureRatio", "AgoraFetchLockWaitHigh",
               "AgoraDatabasePoolSaturated", "AgoraChecksumMismatch"]
    check(f"{L}: PrometheusRule alerts: {', '.join(builtin)} and the additional rule",
          lambda: eq(sorted(rules), sorted(builtin + ["AgoraFetchLockTimeouts"])))
    check(f"{L}: every built-in alert is scoped to this release's job and namespace, with a severity and summary",
          lambda: eq([a for a in builtin if 'job="agora", namespace="goproxy"' not in rules[a]["expr"]
                      or not rules[a]["labels"].get("severity") or not rules[a]["annotations"].get("summary")], []))
    check(f"{L}: alert thresholds come from values (error ratio 0.02); the rule carries release: prometheus",
          lambda: eq(("> 0.02" in rules["AgoraHighErrorRatio"]["expr"], r.one("PrometheusRule")["metadata"]["labels"]["release"]),
                     (True, "prometheus")))
    check(f"{L}: docs/operations.md explains every built-in alert",
          lambda: eq([a for a in builtin if a not in OPERATIONS_MD.read_text()], []))
    dash = r.one("ConfigMap", "agora-dashboard")
    board = json.loads(dash["data"]["agora.json"])
    check(f"{L}: Grafana dashboard ConfigMap in namespace monitoring, labelled for the sidecar",
          lambda: eq((dash["metadata"]["namespace"], dash["metadata"]["labels"]["grafana_dashboard"],
                      dash["metadata"]["annotations"]["grafana_folder"]), ("monitoring", "1", "Agora")))
    check(f"{L}: the dashboard is valid JSON with a uid, a data source variable and queries on every panel",
          lambda: eq((board["uid"], [v["name"] for v in board["templating"]["list"]][0],
                      [p["title"] for p in board["panels"] if p["type"] != "row" and not p.get("targets")],
                      len([p for p in board["panels"] if p["type"] != "row"]) >= 10),
                     ("agora-goproxy", "datasource", [], True)))
    cron = r.one("CronJob")
    cpod = pod_template(cron)["spec"]
    check(f"{L}: retention CronJob: schedule and zone, agora retention --days 180 --apply, never two at once",
          lambda: eq((cron["spec"]["schedule"], cron["spec"]["timeZone"], cpod["containers"][0]["args"],
                      cron["spec"]["concurrencyPolicy"], cpod["restartPolicy"]),
                     ("30 2 * * 0", "Europe/Berlin", ["retention", "--days", "180", "--apply"], "Forbid", "Never")))
    check(f"{L}: retention reads the database URL from the Secret and the replicas' settings",
          lambda: eq((tuple(env_of(cpod["containers"][0])["AGORA_DATABASE_URL"]["valueFrom"]["secretKeyRef"].values()),
                      cpod["containers"][0]["envFrom"][0]["configMapRef"]["name"],
                      env_of(cpod["containers"][0])["USER"]["value"], cpod["containers"][0]["securityContext"]),
                     (("agora-database", "database-url"), RELEASE, "retention-cronjob", container(r)["securityContext"])))
    check(f"{L}: zips in S3 with redirects; endpoint, region and the keys' Secret reach the replicas and retention",
          lambda: eq((cfg["AGORA_BLOBS__URL"], cfg["AGORA_BLOBS__REDIRECT"], cfg["AGORA_BLOBS__REDIRECT_TTL_SECS"],
                      {k: (env_of(p["containers"][0]).get("AWS_ENDPOINT_URL", {}).get("value"),
                           env_of(p["containers"][0]).get("AWS_REGION", {}).get("value"),
                           {"secretRef": {"name": "agora-s3-keys"}} in p["containers"][0].get("envFrom", []))
                       for k, p in pods.items() if k != "Job"}),
                     ("s3://corp-go-zips/agora", "true", "120",
                      {k: ("https://s3.eu-central-1.amazonaws.com", "eu-central-1", True) for k in ("Deployment", "CronJob")})))
    check(f"{L}: the service account carries the IAM role annotation (web identity)",
          lambda: eq(r.one("ServiceAccount")["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
                     "arn:aws:iam::123456789012:role/agora-zips"))
    check(f"{L}: helm test lists the configured module, escaped",
          lambda: '"/github.com/!burnt!sushi/toml/@v/list"' in r.one("Pod")["spec"]["containers"][0]["command"][-1])
    check(f"{L}: ServiceMonitor and PrometheusRule both rendered",
          lambda: eq(sorted(o["kind"] for o in r.objects if o["apiVersion"] == "monitoring.coreos.com/v1"),
                     ["PrometheusRule", "ServiceMonitor"]))


def specific_external_pg_ca(r: Rendered) -> None:
    L = "external-postgres-ca"
    pods = agora_pods(r)
    check(f"{L}: the CA ConfigMap is mounted read-only at /etc/agora/db-ca in the replicas, the migration Job and retention",
          lambda: eq({k: ([v["configMap"] for v in p["volumes"] if v["name"] == "db-ca"],
                          [(m["mountPath"], m["readOnly"]) for m in p["containers"][0]["volumeMounts"] if m["name"] == "db-ca"],
                          env_of(p["containers"][0])["PGSSLROOTCERT"]["value"]) for k, p in pods.items()},
                     {k: ([{"name": "postgres-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]}],
                          [("/etc/agora/db-ca", True)], "/etc/agora/db-ca/ca.crt") for k in ("Deployment", "Job", "CronJob")}))
    check(f"{L}: every database client reads existingSecret agora-db, the chart creates no database Secret",
          lambda: eq(({k: tuple(env_of(p["containers"][0])["AGORA_DATABASE_URL"]["valueFrom"]["secretKeyRef"].values())
                       for k, p in pods.items()}, r.all("Secret")),
                     ({k: ("agora-db", "database-url") for k in pods}, [])))
    db = [e for e in r.one("NetworkPolicy")["spec"]["egress"] if e["ports"] == [{"port": 5432, "protocol": "TCP"}]]
    check(f"{L}: NetworkPolicy lets PostgreSQL through only to its address",
          lambda: eq([e["to"] for e in db], [[{"ipBlock": {"cidr": "10.20.0.15/32"}}]]))


CASES = {
    "default-values.yaml": specific_default,
    "lb-hpa-values.yaml": specific_lb_hpa,
    "existing-secret-private-git-ingress-values.yaml": specific_private,
    "all-features-values.yaml": specific_all_features,
    "external-postgres-ca-values.yaml": specific_external_pg_ca,
}


def render(chart: helm.Chart, values: dict) -> Rendered:
    return Rendered(chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True))


def kube_validate(r: Rendered, version: str) -> bool:
    errors = []
    for o in r.objects:
        if (o["apiVersion"], o["kind"]) in CRD_VALIDATORS:
            continue
        try:
            kubernetes_validate.validate(o, version, strict=True)
        except ValidationError as e:
            errors.append(f"{o['kind']}/{o['metadata']['name']}: {'.'.join(map(str, e.path))}: {e.message}")
        except SchemaNotFoundError as e:
            errors.append(f"no schema: {e.message}")
    if errors:
        raise AssertionError("; ".join(errors))
    return True


def crd_validate(r: Rendered) -> bool:
    """ServiceMonitor and PrometheusRule objects against the vendored CRD schemas."""
    errors = [f"{o['kind']}/{o['metadata']['name']}: {'.'.join(map(str, e.absolute_path))}: {e.message}"
              for o in r.objects if (o["apiVersion"], o["kind"]) in CRD_VALIDATORS
              for e in CRD_VALIDATORS[(o["apiVersion"], o["kind"])].iter_errors(o)]
    if errors:
        raise AssertionError("; ".join(errors[:10]))
    return True


def main() -> int:
    start = time.monotonic()
    chart = check("chart loads", lambda: helm.Chart.load(CHART))
    if chart is None:
        print(f"{passed} passed, {failed} failed")
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    statics = [CHART / "Chart.yaml", CHART / "values.yaml", *sorted(CHART.glob("ci/**/*.yaml")),
               ROOT / "deploy" / "docker-compose.yml"]
    check("yamllint on Chart.yaml, values.yaml, ci/ values and deploy/docker-compose.yml", lambda: all(
        yamllint_clean(f.read_text(), f"{f.relative_to(ROOT)}: ") for f in statics))
    for name, specific in CASES.items():
        label = name.removesuffix("-values.yaml")
        values = yaml.safe_load((CHART / "ci" / name).read_text()) or {}
        for version in KUBE_VERSIONS:
            check(f"{label}: helm lint -k {version} (no warnings or errors)", lambda: lint_clean(values, version))
        r = check(f"{label}: renders", lambda: render(chart, values))
        if r is None:
            continue
        text = r.yaml_text()
        (OUT / f"{label}.yaml").write_text(text)
        check(f"{label}: yamllint on the rendered output", lambda: yamllint_clean(text))
        for version in KUBE_VERSIONS:
            check(f"{label}: kubernetes-validate --strict -k {version}", lambda: kube_validate(r, version))
        crds = sorted({o["kind"] for o in r.objects if (o["apiVersion"], o["kind"]) in CRD_VALIDATORS})
        if crds:
            check(f"{label}: {', '.join(crds)} valid against the vendored CRD schemas (scripts/schemas/)",
                  lambda: crd_validate(r))
        common(label, r)
        specific(r)

    check("every helm/agora/ci/*-values.yaml has its assertions here", lambda: eq(
        sorted(f.name for f in (CHART / "ci").glob("*-values.yaml")), sorted(CASES)))
    base = yaml.safe_load((CHART / "ci" / "default-values.yaml").read_text())
    check("a readiness probe timeout not above config.database.readinessTimeoutMs fails the render", lambda: rejected(
        lambda: render(chart, {**base, "config": {"database": {"readinessTimeoutMs": 3000}}}), "readinessTimeoutMs"))
    check("otel.protocol grpc with an endpoint on the OTLP/HTTP port 4318 fails the render", lambda: rejected(
        lambda: render(chart, {**base, "otel": {"endpoint": "http://collector:4318", "protocol": "grpc"}}), "4317"))
    check("global accepts any object (the chart works as a subchart)", lambda: render(
        chart, {**base, "global": {"imageRegistry": "r.example", "nested": {"any": [1, "two"]}}}) is not None)
    check("defaultTopologySpread=false renders no spread constraints", lambda: eq(
        "topologySpreadConstraints" in render(chart, {**base, "defaultTopologySpread": False}).one("Deployment")["spec"]["template"]["spec"],
        False))
    check("a config change changes the pod's checksum/config (rolls the pods)", lambda: (
        pod_annotations(render(chart, base))["checksum/config"]
        != pod_annotations(render(chart, {**base, "config": {"upstream": "https://goproxy.io"}}))["checksum/config"]))
    check("migrations.enabled=false: no Job, AGORA_MIGRATE_ON_START follows config", lambda: eq(
        (lambda r: ([o["kind"] for o in r.objects if o["kind"] == "Job"], config(r)["AGORA_MIGRATE_ON_START"]))(
            render(chart, {**base, "migrations": {"enabled": False}, "config": {"migrateOnStart": True}})),
        ([], "true")))
    check("src/config/mod.rs scan finds every settings section and the default-less otel.endpoint", lambda: eq(
        ({v.split("__")[0] for v in BINARY_VARS if "__" in v} >= {
            f"AGORA_{s}" for s in ("DATABASE", "FETCH", "CACHE", "DIRECT", "LOG", "OTEL", "POLICY", "SUMDB", "AUTH", "TLS", "ADMIN")},
         "AGORA_OTEL__ENDPOINT" in BINARY_VARS, len(BINARY_VARS) > len(binary_defaults(CONFIG_RS.read_text()))),
        (True, True, True)))
    check("editing config.policy.rules leaves checksum/config alone (kubelet updates the file; agora reloads it)", lambda: eq(
        len({pod_annotations(render(chart, {**base, "config": {"policy": {"rules": rules}}}))["checksum/config"]
             for rules in ('[[rule]]\npattern = "a.example"\naction = "deny"\n', '[[rule]]\npattern = "b.example"\naction = "deny"\n')}),
        1))
    check("no database configured: render fails naming database.url", lambda: rejected(
        lambda: render(chart, {}), "database.url"))
    for bad in sorted((CHART / "ci" / "invalid").glob("*.yaml")):
        values = yaml.safe_load(bad.read_text())
        check(f"invalid/{bad.name}: rejected by values.schema.json", lambda: rejected(
            lambda: chart.validate_schema(values), "agora"))
        check(f"invalid/{bad.name}: render refuses it too", lambda: rejected(
            lambda: render(chart, values), "schema"))
    print(f"      ({time.monotonic() - start:.2f}s in checks; rendered output in {OUT.relative_to(ROOT)}/)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def lint_clean(values: dict, version: str) -> bool:
    report = helm.lint(CHART, values, strict=True, kube_version=f"v{version}")
    bad = [m for m in report.get("messages") or [] if m["severity"] >= 2] + list(report.get("errors") or [])
    if bad:
        raise AssertionError(bad)
    return True


def yamllint_clean(text: str, where: str = "") -> bool:
    problems = [f"{where}{p.line}:{p.column} {p.level} {p.desc} ({p.rule})" for p in linter.run(text, YAMLLINT)]
    if problems:
        raise AssertionError("; ".join(problems[:10]))
    return True


def rejected(fn: Callable[[], Any], must_mention: str) -> bool:
    try:
        fn()
    except helm.HelmError as e:
        if must_mention not in str(e):
            raise AssertionError(f"rejected, but the message lacks {must_mention!r}: {e}") from e
        return True
    raise AssertionError("accepted")


if __name__ == "__main__":
    sys.exit(main())
