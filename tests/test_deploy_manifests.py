"""deploy/ Kubernetes manifests agree with the server they run: port, health names, shutdown."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
import yaml

from regimenguard.client.cli import build_parser
from regimenguard.server.app import DEFAULT_GRACE_SECONDS, DEFAULT_PORT, HEALTH_NAMES, SERVICE_NAME

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
MANIFESTS = ("deployment.yaml", "service.yaml", "service-headless.yaml")


def _documents() -> list[dict[str, Any]]:
    documents = []
    for name in MANIFESTS:
        with (DEPLOY / name).open(encoding="utf-8") as stream:
            documents.extend(doc for doc in yaml.safe_load_all(stream) if doc)
    return documents


def _one(kind: str, name: str) -> dict[str, Any]:
    found = [doc for doc in _documents() if doc["kind"] == kind and doc["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name} in deploy/, found {len(found)}"
    return found[0]


@pytest.fixture(scope="module")
def deployment() -> dict[str, Any]:
    return _one("Deployment", "regimenguard")


@pytest.fixture(scope="module")
def container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


@pytest.fixture(scope="module")
def serve_args(container: dict[str, Any]) -> argparse.Namespace:
    """The container's command line, parsed by the real `regimen-guard` parser."""
    argv = [*container.get("command", []), *container.get("args", [])]
    assert argv[0] == "regimen-guard", argv
    args = build_parser().parse_args([str(arg) for arg in argv[1:]])
    assert args.command == "serve"
    return args


def _grpc_port(container: dict[str, Any]) -> dict[str, Any]:
    ports = [port for port in container["ports"] if port.get("name") == "grpc"]
    assert len(ports) == 1, container["ports"]
    return ports[0]


def test_every_manifest_is_in_the_kustomization() -> None:
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text(encoding="utf-8"))
    assert sorted(kustomization["resources"]) == sorted(MANIFESTS)
    assert sorted(path.name for path in DEPLOY.glob("*.yaml")) == sorted(
        [*MANIFESTS, "kustomization.yaml"]
    )


def test_container_port_is_the_server_port(
    container: dict[str, Any], serve_args: argparse.Namespace
) -> None:
    port = _grpc_port(container)
    assert port["containerPort"] == serve_args.port == DEFAULT_PORT
    assert port.get("protocol", "TCP") == "TCP"


@pytest.mark.parametrize(
    ("probe", "service"),
    [("readinessProbe", SERVICE_NAME), ("livenessProbe", "")],
)
def test_probes_are_grpc_health_checks(container: dict[str, Any], probe: str, service: str) -> None:
    spec = container[probe]
    assert set(spec) & {"grpc", "httpGet", "tcpSocket", "exec"} == {"grpc"}, spec
    assert spec["grpc"]["port"] == _grpc_port(container)["containerPort"] == DEFAULT_PORT
    # An absent service field means "" to the kubelet.
    assert spec["grpc"].get("service", "") == service
    assert service in HEALTH_NAMES


def test_the_server_binds_every_interface_of_the_pod(serve_args: argparse.Namespace) -> None:
    # The default is loopback only; probes and Services reach the pod's own address.
    assert serve_args.host in ("[::]", "0.0.0.0")


def test_one_worker_and_the_default_grace(serve_args: argparse.Namespace) -> None:
    assert serve_args.workers == 1
    assert serve_args.grace == DEFAULT_GRACE_SECONDS


def test_kubernetes_waits_longer_than_the_server_grace(
    deployment: dict[str, Any], serve_args: argparse.Namespace
) -> None:
    termination = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert termination > serve_args.grace
    # Room for the process to exit after the grace, before SIGKILL.
    assert termination - serve_args.grace >= 3


def test_resources_sized_for_one_worker(
    deployment: dict[str, Any], container: dict[str, Any]
) -> None:
    assert deployment["spec"]["replicas"] >= 2
    resources = container["resources"]
    assert str(resources["requests"]["cpu"]) == "1"
    assert resources["requests"]["memory"] == "256Mi"
    assert resources["limits"]["memory"] == "512Mi"
    assert "cpu" not in resources.get("limits", {}), "a CPU limit throttles latency"


@pytest.mark.parametrize("name", ["regimenguard", "regimenguard-headless"])
def test_services_target_the_named_grpc_port(
    deployment: dict[str, Any], container: dict[str, Any], name: str
) -> None:
    service = _one("Service", name)
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = service["spec"]["selector"]
    assert selector.items() <= pod_labels.items()
    assert deployment["spec"]["selector"]["matchLabels"] == selector
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] == _grpc_port(container)["name"] == "grpc"
    assert port["port"] == DEFAULT_PORT
    assert port["appProtocol"] == "grpc"


def test_cluster_ip_and_headless_services() -> None:
    assert _one("Service", "regimenguard")["spec"].get("type", "ClusterIP") == "ClusterIP"
    headless = _one("Service", "regimenguard-headless")["spec"]
    assert headless["clusterIP"] == "None"
    # Only ready pods in DNS, so a draining (NOT_SERVING) pod leaves the round_robin set.
    assert not headless.get("publishNotReadyAddresses", False)


def test_metrics_port_is_declared_and_matches_the_server_flag(
    deployment: dict[str, Any], container: dict[str, Any], serve_args: argparse.Namespace
) -> None:
    """The pod exposes the port `serve --metrics-port` binds, and says so for scrapers."""
    pod = deployment["spec"]["template"]
    (metrics,) = [port for port in container["ports"] if port.get("name") == "metrics"]
    assert metrics["containerPort"] == serve_args.metrics_port
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(serve_args.metrics_port)
    assert serve_args.metrics_port != serve_args.port
