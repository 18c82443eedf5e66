"""A real Prometheus scrapes a real cluster with deploy/prometheus/prometheus.yml: two
controllers and two invokers (processes on a Kafka-protocol broker, as in the compose file),
each its own target, reached with the bearer token the file names. Only the addresses change:
the compose services' names become the processes' loopback ports. Then what Prometheus stored
is asked with PromQL under OpenWhisk's own names, as its Grafana dashboards ask it
(`openwhisk_action_status{status="success"}`, no `_total`).

Needs the `prometheus` binary (Debian's package; deploy/test.sh installs it).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.cluster import Cluster
from tests.support.kafka import TansuBroker, tansu
from tests.support.polling import wait_until
from tests.support.prerequisites import program
from tests.support.server import create_namespace, free_port

__all__ = ["tansu"]

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS_CONF = REPO / "deploy" / "prometheus" / "prometheus.yml"
TOKEN = "prometheus-scrape-token"


@pytest.fixture
def cluster(tmp_path: Path, tansu: TansuBroker) -> Iterator[Cluster]:
    cluster = Cluster(
        tmp_path / "cluster",
        f"sqlite:///{tmp_path / 'pywhisk.db'}",
        tansu.url,
        env={"PYWHISK_METRICS_TOKEN": TOKEN},
    )
    try:
        yield cluster
    finally:
        cluster.stop()


class Prometheus:
    def __init__(self, config: dict[str, Any], root: Path) -> None:
        root.mkdir()
        (root / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.url = f"http://127.0.0.1:{free_port()}"
        self._log = (root / "prometheus.log").open("w")
        self.process = subprocess.Popen(
            [
                program("prometheus", "prometheus"),
                f"--config.file={root / 'prometheus.yml'}",
                f"--storage.tsdb.path={root / 'data'}",
                f"--web.listen-address={self.url.removeprefix('http://')}",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.root = root

    def log(self) -> str:
        return (self.root / "prometheus.log").read_text()[-4000:]

    def api(self, path: str, **params: str) -> Any:
        answer = httpx.get(f"{self.url}/api/v1/{path}", params=params, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]

    def until(self, what: str, check: Any, timeout: float = 60.0) -> Any:
        """Until `check()` is truthy (its value); fails at once if Prometheus exits."""

        def checked() -> Any:
            assert self.process.poll() is None, self.log()  # no use waiting
            return check()

        return wait_until(
            checked,
            what,
            timeout=timeout,
            interval=0.5,
            ignoring=(httpx.TransportError,),
            details=self.log,
        )

    def value(self, query: str) -> float | None:
        result = self.api("query", query=query)["result"]
        return float(result[0]["value"][1]) if result else None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


def test_prometheus_scrapes_every_controller_and_invoker(cluster: Cluster, tmp_path: Path) -> None:
    controllers = {"controller0": cluster.start_controller(0, of=2)}
    controllers["controller1"] = cluster.start_controller(1, of=2)
    invoker_ports = {}
    for n in (0, 1):
        invoker_ports[f"invoker{n}"] = free_port()
        cluster.env["PYWHISK_METRICS_PORT"] = str(invoker_ports[f"invoker{n}"])
        cluster.start_invoker(n)
    for url in controllers.values():  # both are called below
        cluster.wait_for_controller(url=url)
    cluster.wait_for_invokers({"invoker0": "up", "invoker1": "up"}, timeout=30)

    # The repository's scrape configuration, with loopback addresses for the service names.
    where = {f"{name}:3233": url.removeprefix("http://") for name, url in controllers.items()}
    where |= {f"{name}:9095": f"127.0.0.1:{port}" for name, port in invoker_ports.items()}
    token_file = tmp_path / "metrics-token"
    token_file.write_text(TOKEN)
    config = yaml.safe_load(PROMETHEUS_CONF.read_text())
    config["global"]["scrape_interval"] = "1s"
    for job in config["scrape_configs"]:
        assert job["authorization"]["credentials_file"] == "/prometheus/metrics-token"
        job["authorization"]["credentials_file"] = str(token_file)
        for group in job["static_configs"]:
            group["targets"] = [where.pop(target) for target in group["targets"]]
    assert not where, f"not scraped: {where}"

    identity = create_namespace(cluster.store_url, "scraped")
    auth = (identity.uuid, identity.key)
    code = {"kind": "python:3", "code": "def main(a):\n    return a\n"}
    calls = 0
    with httpx.Client(auth=auth, timeout=60) as api:
        path = "/api/v1/namespaces/_/actions/echo"
        assert api.put(f"{cluster.url}{path}", json={"exec": code}).status_code == 200
        for url in (*controllers.values(), *controllers.values()):
            answer = api.post(f"{url}{path}?blocking=true&result=true", json={"n": calls})
            assert answer.json() == {"n": calls}, answer.text
            calls += 1

    prometheus = Prometheus(config, tmp_path / "prometheus")
    try:
        prometheus.until(
            "Prometheus ready",
            lambda: httpx.get(f"{prometheus.url}/-/ready", timeout=5).status_code == 200,
        )
        targets = prometheus.until(
            "Prometheus to find every target up",
            lambda: (
                (active := prometheus.api("targets")["activeTargets"])
                and len(active) == 4
                and all(t["health"] == "up" for t in active)
                and active
            ),
        )
        assert {t["labels"]["job"] for t in targets} == {"pywhisk-controllers", "pywhisk-invokers"}

        # What ran is the invokers' to count, summed over them as the config's comment says.
        ran = 'sum(openwhisk_action_activations_total{namespace="scraped",action="echo"})'
        prometheus.until("the activations counted", lambda: prometheus.value(ran) == calls)
        success = 'sum(openwhisk_action_status{namespace="scraped",status="success"})'
        assert prometheus.value(success) == calls
        cold = 'sum(openwhisk_action_coldStarts_total{namespace="scraped"})'
        assert 1 <= (prometheus.value(cold) or 0) <= 2  # one per invoker that ran it
        # Each controller tells the invokers' health as it sees them.
        up = 'count(pywhisk_invoker_health{state="up"} == 1)'
        assert prometheus.value(up) == 4  # 2 controllers × 2 invokers
        assert prometheus.value('count(pywhisk_containers{state="warm"})') == 2
    finally:
        prometheus.stop()
