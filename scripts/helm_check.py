"""Renders, lints and validates the Agora Helm chart; run through scripts/helm-check.sh.

For every values file in helm/agora/ci/*-values.yaml: helm lint, helm template (the Helm 4 Go
SDK embedded in helm-python-sdk, no helm binary), yamllint on the output, kubernetes-validate
--strict against Kubernetes 1.33.0, and assertions on the rendered objects. Files in
helm/agora/ci/invalid/ must be rejected by values.schema.json. Prints "N passed, M failed".
"""

from __future__ import annotations

import base64
import re
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import helm_python as helm
import kubernetes_validate
import yaml
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError
from yamllint import linter
from yamllint.config import YamlLintConfig

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "helm" / "agora"
OUT = ROOT / ".tools" / "helm-out"
KUBE_VERSION = "1.33.0"
RELEASE, NAMESPACE = "agora", "goproxy"
# CRDs that kubernetes-validate has no schema for; asserted structurally below instead.
NO_SCHEMA_KINDS = {"ServiceMonitor"}

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

CONFIG_RS = ROOT / "src" / "config.rs"
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
    """Every settings key of src/config.rs, so the check cannot drift from the binary: the keys
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


# Every AGORA_* variable the binary reads, derived from src/config.rs; all but FROM_SECRET must
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
    """The set_default values of src/config.rs as the strings the ConfigMap would hold."""
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
    check(f"{L}: every setting defaults to the binary's default (src/config.rs) but {', '.join(CHART_DIFFERS)}",
          lambda: eq({k: (config(r).get(env_name(k)), v) for k, v in defaults.items()
                      if k not in CHART_DIFFERS and config(r).get(env_name(k)) != v}, {}))
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
    check(f"{L}: NOTES print the https GOPROXY line and GONOSUMDB",
          lambda: "export GOPROXY=https://goproxy.example.com" in r.notes() and "GONOSUMDB" in r.notes())


CASES = {
    "default-values.yaml": specific_default,
    "lb-hpa-values.yaml": specific_lb_hpa,
    "existing-secret-private-git-ingress-values.yaml": specific_private,
}


def render(chart: helm.Chart, values: dict) -> Rendered:
    return Rendered(chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True))


def kube_validate(r: Rendered) -> bool:
    errors, skipped = [], []
    for o in r.objects:
        if o["kind"] in NO_SCHEMA_KINDS:
            skipped.append(o["kind"])
            continue
        try:
            kubernetes_validate.validate(o, KUBE_VERSION, strict=True)
        except ValidationError as e:
            errors.append(f"{o['kind']}/{o['metadata']['name']}: {'.'.join(map(str, e.path))}: {e.message}")
        except SchemaNotFoundError as e:
            errors.append(f"no schema: {e.message}")
    if skipped:
        print(f"      (skipped {', '.join(skipped)}: a CRD kind kubernetes-validate has no schema for)")
    if errors:
        raise AssertionError("; ".join(errors))
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
        check(f"{label}: helm lint (no warnings or errors)", lambda: lint_clean(values))
        r = check(f"{label}: renders", lambda: render(chart, values))
        if r is None:
            continue
        text = r.yaml_text()
        (OUT / f"{label}.yaml").write_text(text)
        check(f"{label}: yamllint on the rendered output", lambda: yamllint_clean(text))
        check(f"{label}: kubernetes-validate --strict -k {KUBE_VERSION}", lambda: kube_validate(r))
        common(label, r)
        specific(r)

    base = yaml.safe_load((CHART / "ci" / "default-values.yaml").read_text())
    check("a config change changes the pod's checksum/config (rolls the pods)", lambda: (
        pod_annotations(render(chart, base))["checksum/config"]
        != pod_annotations(render(chart, {**base, "config": {"upstream": "https://goproxy.io"}}))["checksum/config"]))
    check("migrations.enabled=false: no Job, AGORA_MIGRATE_ON_START follows config", lambda: eq(
        (lambda r: ([o["kind"] for o in r.objects if o["kind"] == "Job"], config(r)["AGORA_MIGRATE_ON_START"]))(
            render(chart, {**base, "migrations": {"enabled": False}, "config": {"migrateOnStart": True}})),
        ([], "true")))
    check("src/config.rs scan finds every settings section and the default-less otel.endpoint", lambda: eq(
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


def lint_clean(values: dict) -> bool:
    report = helm.lint(CHART, values, strict=True, kube_version=f"v{KUBE_VERSION}")
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
