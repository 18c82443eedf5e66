"""docker-compose.yml and deploy/nginx/nginx.conf, checked without pulling any image.

The compose file is rendered by the real tool when one is installed (`docker compose config`,
else `docker-compose config`: merges, anchors and ${VAR:-default} resolved as at `up`), or
else read with PyYAML and a minimal interpolation of the defaults. Either way, the same
invariants: the URL settings the cluster needs, two controllers and two invokers with distinct
ids, nginx's upstreams named as the controller services, the API published on loopback only,
Prometheus (deploy/prometheus/prometheus.yml) scraping every controller and invoker with the
token they are given. `nginx -t` and `promtool check config` run too (deploy/test.sh installs
both; without them those tests fail).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from pywhisk.common.config import Settings
from pywhisk.common.discovery.consul import ConsulDiscovery
from pywhisk.common.queue.kafka import KafkaQueue
from pywhisk.common.store.couchdb import parse_url
from tests.support.prerequisites import program

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
NGINX_CONF = REPO / "deploy" / "nginx" / "nginx.conf"
PLATFORM_DOCKERFILE = REPO / "deploy" / "platform" / "Dockerfile"
PROMETHEUS_CONF = REPO / "deploy" / "prometheus" / "prometheus.yml"
BACKENDS = {"couchdb", "kafka", "consul"}
# The environment the tool renders with: nothing of the caller's, so the defaults are checked.
CLEAN_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp"}


def _compose_tool() -> list[str] | None:
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, env=CLEAN_ENV, timeout=60
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


_VARIABLE = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def _interpolate(node: Any) -> Any:
    """${NAME:-default} → default (an empty environment), as compose does."""
    if isinstance(node, dict):
        return {key: _interpolate(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_interpolate(value) for value in node]
    if isinstance(node, str):
        return _VARIABLE.sub(lambda m: m.group(2) or "", node)
    return node


@pytest.fixture(scope="module")
def rendered() -> dict[str, Any]:
    tool = _compose_tool()
    if tool is None:
        return _interpolate(yaml.safe_load(COMPOSE.read_text()))
    done = subprocess.run(
        [*tool, "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=CLEAN_ENV,
        timeout=120,
    )
    assert done.returncode == 0, f"{' '.join(tool)} config failed:\n{done.stderr}"
    return yaml.safe_load(done.stdout)


@pytest.fixture(scope="module")
def services(rendered: dict[str, Any]) -> dict[str, Any]:
    return rendered["services"]


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command") or []
    return command.split() if isinstance(command, str) else [str(part) for part in command]


def _role(services: dict[str, Any], role: str) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services.items() if _command(s)[:1] == [role]}


def _option(command: list[str], flag: str) -> str | None:
    return command[command.index(flag) + 1] if flag in command else None


def _mount_targets(service: dict[str, Any]) -> list[str]:
    """Short ("src:target[:mode]") and long ({source, target}) volume forms alike."""
    return [
        v.split(":")[1] if isinstance(v, str) else v["target"] for v in service.get("volumes", [])
    ]


def _network_name(rendered: dict[str, Any]) -> str:
    return rendered["networks"]["default"]["name"]


def _upstream_servers() -> list[tuple[str, int]]:
    text = NGINX_CONF.read_text()
    block = re.search(r"upstream\s+controllers\s*\{(.*?)\}", text, re.S)
    assert block, "nginx.conf has no `upstream controllers` block"
    return [(host, int(port)) for host, port in re.findall(r"server\s+([\w.-]+):(\d+)", block[1])]


def test_the_services_of_a_cluster(services: dict[str, Any]) -> None:
    assert set(services) == {*BACKENDS, "nginx", "controller0", "controller1"} | {
        "invoker0",
        "invoker1",
        "prometheus",
    }


def test_two_controllers_with_distinct_ids_sharing_the_invokers(
    services: dict[str, Any],
) -> None:
    controllers = _role(services, "controller")
    assert len(controllers) == 2
    ids = {_environment(s)["PYWHISK_CONTROLLER_ID"] for s in controllers.values()}
    assert ids == {"0", "1"}
    for service in controllers.values():
        assert _option(_command(service), "--controller-count") == "2"
        assert _environment(service)["PYWHISK_CONTROLLER_COUNT"] == "2"


def test_two_invokers_with_distinct_ids_on_the_docker_engine(
    rendered: dict[str, Any], services: dict[str, Any]
) -> None:
    invokers = _role(services, "invoker")
    assert len(invokers) == 2
    assert {_option(_command(s), "--id") for s in invokers.values()} == {"0", "1"}
    for name, service in invokers.items():
        url = urlsplit(_environment(service)["PYWHISK_CONTAINERS_URL"])
        assert url.scheme == "docker", name
        # The network action containers join is the one the invoker itself is on.
        assert parse_qs(url.query)["network"] == [_network_name(rendered)], name
        assert "/var/run/docker.sock" in _mount_targets(service), name
    # One installation id for the cluster, set here: an invoker's data directory dies with
    # its container, so an id kept there would change at each restart and its leftovers
    # would never be found again.
    ids = {_environment(s).get("PYWHISK_INSTALLATION_ID") for s in invokers.values()}
    assert ids == {"compose"}


def test_every_platform_service_uses_the_cluster_backends(
    services: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    platform = {**_role(services, "controller"), **_role(services, "invoker")}
    for name, service in platform.items():
        env = _environment(service)
        unknown = {
            k for k in env if k.removeprefix("PYWHISK_").lower() not in Settings.model_fields
        }
        assert not unknown, f"{name}: not pywhisk settings: {unknown}"
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings = Settings()

        base, user, password, prefix = parse_url(settings.store_url)
        assert urlsplit(settings.store_url).scheme == "couchdb", name
        assert base == "http://couchdb:5984" and user and password and prefix, name
        couchdb_env = _environment(services["couchdb"])
        assert (user, password) == (couchdb_env["COUCHDB_USER"], couchdb_env["COUCHDB_PASSWORD"])

        queue = KafkaQueue(settings.queue_url)
        assert urlsplit(settings.queue_url).scheme == "kafka", name
        assert urlsplit(settings.queue_url).netloc == "kafka:9092", name
        # Kafka answers a waiting fetch at once: every consumer waits long, none polls.
        assert queue.waits.of(prompt=True) == (500, 500), name

        discovery = ConsulDiscovery(settings.discovery_url)
        assert urlsplit(settings.discovery_url).scheme == "consul", name
        assert (discovery.host, discovery.port) == ("consul", 8500), name

        # Actions call the API back through the front door.
        assert settings.api_host == "http://nginx:3233", name
        for key in env:
            monkeypatch.delenv(key)


def test_kafka_runs_in_kraft_mode_and_takes_our_largest_messages(
    services: dict[str, Any],
) -> None:
    from pywhisk.common.queue.kafka import MAX_MESSAGE_BYTES

    env = _environment(services["kafka"])
    assert "zookeeper" not in str(services).lower()
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert int(env["KAFKA_MESSAGE_MAX_BYTES"]) > MAX_MESSAGE_BYTES


def test_platform_services_wait_for_healthy_backends(services: dict[str, Any]) -> None:
    for name in [*_role(services, "controller"), *_role(services, "invoker")]:
        depends = services[name]["depends_on"]
        assert set(depends) == BACKENDS, name
        assert {d["condition"] for d in depends.values()} == {"service_healthy"}, name
        assert services[name]["build"]["dockerfile"] == "deploy/platform/Dockerfile"
    nginx_depends = services["nginx"]["depends_on"]
    assert set(nginx_depends) == set(_role(services, "controller"))
    assert {d["condition"] for d in nginx_depends.values()} == {"service_healthy"}
    waited_on = BACKENDS | set(_role(services, "controller"))
    for name in waited_on | {"nginx"}:
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_nginx_upstreams_are_the_controller_services(services: dict[str, Any]) -> None:
    servers = _upstream_servers()
    assert {host for host, _ in servers} == set(_role(services, "controller"))
    assert {port for _, port in servers} == {Settings().port}


def _published(port: Any) -> tuple[str, str, str]:
    if isinstance(port, str):  # docker-compose v1: "127.0.0.1:3233:3233"
        host_ip, host_port, target = port.rsplit(":", 2)
    else:  # docker compose v2: the long form
        host_ip, host_port, target = port["host_ip"], port["published"], port["target"]
    return host_ip, str(host_port), str(target).removesuffix("/tcp")


def test_only_nginx_and_prometheus_publish_a_port_and_on_loopback(
    services: dict[str, Any],
) -> None:
    published = {name: s["ports"] for name, s in services.items() if s.get("ports")}
    assert set(published) == {"nginx", "prometheus"}
    assert [_published(p) for p in published["nginx"]] == [("127.0.0.1", "3233", "3233")]
    assert [_published(p) for p in published["prometheus"]] == [("127.0.0.1", "9090", "9090")]
    volumes = services["nginx"]["volumes"]
    sources = [v.split(":")[0] if isinstance(v, str) else v["source"] for v in volumes]
    assert any(Path(REPO, s).resolve() == NGINX_CONF for s in sources)


def test_nginx_conf_fits_openwhisk_requests() -> None:
    text = NGINX_CONF.read_text()
    assert re.search(r"client_max_body_size\s+50m;", text)
    assert int(re.search(r"proxy_read_timeout\s+(\d+)s;", text)[1]) > 60  # type: ignore[index]
    assert re.search(r"proxy_set_header\s+X-Request-ID\s", text)
    assert re.search(r"keepalive\s+\d+;", text)
    assert re.search(r"proxy_set_header\s+Connection\s+\$connection_upgrade;", text)
    for location in ("= /api/v1", "/api/v1/", "= /ping", "/"):
        assert re.search(rf"location\s+{re.escape(location)}\s*\{{", text), location


def test_platform_image_runs_pywhisk() -> None:
    text = PLATFORM_DOCKERFILE.read_text()
    assert re.search(r"^ARG BASE=pywhisk/base:bookworm$", text, re.M)
    assert "[docker,kafka,couchdb,consul,metrics]" in text  # /metrics answers, not 501
    assert re.search(r'^ENTRYPOINT \["pywhisk"\]$', text, re.M)


def test_nginx_accepts_the_conf(tmp_path: Path) -> None:
    # The upstream names resolve only on the compose network: loopback stands in for them.
    conf = NGINX_CONF.read_text()
    for host, _ in _upstream_servers():
        conf = conf.replace(f"server {host}:", "server 127.0.0.1:")
    (tmp_path / "nginx.conf").write_text(conf)
    done = subprocess.run(
        [
            program("nginx", "nginx-light"),
            "-t",
            "-p",
            str(tmp_path),
            "-c",
            str(tmp_path / "nginx.conf"),
            "-g",
            f"pid {tmp_path / 'nginx.pid'};",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def _prometheus_script(service: dict[str, Any]) -> str:
    """What the prometheus service runs, as its shell sees it (compose's `$$` is a `$`)."""
    entrypoint = service.get("entrypoint") or []
    assert entrypoint == ["/bin/sh", "-c"]
    return " ".join(_command(service)).replace("$$", "$")


def test_prometheus_scrapes_every_controller_and_invoker(services: dict[str, Any]) -> None:
    prometheus = services["prometheus"]
    assert prometheus["profiles"] == ["metrics"]  # only with --profile metrics
    script = _prometheus_script(prometheus)
    # The scrape config it reads is this repository's file.
    config_path = re.search(r"--config\.file=(\S+)", script)
    assert config_path
    mounts = {
        (v.split(":")[1] if isinstance(v, str) else v["target"]): (
            v.split(":")[0] if isinstance(v, str) else v["source"]
        )
        for v in prometheus["volumes"]
    }
    assert Path(REPO, mounts[config_path[1]]).resolve() == PROMETHEUS_CONF

    conf = yaml.safe_load(PROMETHEUS_CONF.read_text())
    jobs = conf["scrape_configs"]
    targets = [t for job in jobs for group in job["static_configs"] for t in group["targets"]]
    controllers, invokers = _role(services, "controller"), _role(services, "invoker")
    for service in controllers.values():  # so on the API's default port
        assert "--port" not in _command(service) and "PYWHISK_PORT" not in _environment(service)
    expected = [f"{name}:{Settings().port}" for name in controllers]
    for name, service in invokers.items():
        expected.append(f"{name}:{_environment(service)['PYWHISK_METRICS_PORT']}")
    assert sorted(targets) == sorted(expected)  # each process once: each counts its own
    for job in jobs:
        assert job.get("metrics_path", "/metrics") == "/metrics"
        assert job.get("scheme", "http") == "http"
        # The bearer token: a file the service writes from the variable the platform reads.
        token_file = job["authorization"]["credentials_file"]
        assert f'"$PYWHISK_METRICS_TOKEN" > {token_file} &&' in script
        assert token_file.startswith("/prometheus/") and "/prometheus" in mounts


def test_prometheus_gets_the_token_the_platform_gets() -> None:
    raw = yaml.safe_load(COMPOSE.read_text())
    platform_token = raw["x-backends"]["PYWHISK_METRICS_TOKEN"]
    assert platform_token == "${PYWHISK_METRICS_TOKEN:-}"
    assert raw["services"]["prometheus"]["environment"]["PYWHISK_METRICS_TOKEN"] == platform_token


def test_promtool_accepts_the_scrape_config(tmp_path: Path) -> None:
    # The token file exists only in the container: a local one stands in for it.
    token = tmp_path / "metrics-token"
    token.write_text("t")
    conf = PROMETHEUS_CONF.read_text().replace("/prometheus/metrics-token", str(token))
    (tmp_path / "prometheus.yml").write_text(conf)
    done = subprocess.run(
        [program("promtool", "prometheus"), "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
