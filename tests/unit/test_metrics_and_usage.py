"""Pure parts of metrics and usage: what a record bills, the operator check, the invoker's
container states, the controller's health gauge, the wsk usage table and time spans."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import click
import pytest
from prometheus_client.parser import text_string_to_metric_families

from pywhisk.cli.commands.usage import parse_time, usage_table
from pywhisk.common.entities import Identity
from pywhisk.common.metrics import Metrics, MetricsUnavailable
from pywhisk.common.metrics.access import is_operator
from pywhisk.common.metrics.prometheus import PrometheusMetrics
from pywhisk.common.store.usage import billed, gb_seconds, summarize
from pywhisk.controller.core import gauges
from pywhisk.controller.core.health import Status
from pywhisk.invoker.outcomes import user_status_code


def record(**kw: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "namespace": "ns",
        "name": "a",
        "activationId": "x" * 32,
        "start": 1,
        "end": 11,
        "duration": 10,
        "response": {"statusCode": 0},
        "annotations": [
            {"key": "path", "value": "ns/pkg/a"},
            {"key": "kind", "value": "python:3.11"},
            {"key": "limits", "value": {"memory": 512}},
        ],
    }
    doc.update(kw)
    return doc


def test_a_record_bills_memory_times_duration() -> None:
    b = billed(record())
    assert b is not None and (b.name, b.mb_ms, b.cold, b.error) == ("pkg/a", 5120, False, False)
    assert gb_seconds(b.mb_ms) == 512 / 1024 * 10 / 1000


def test_what_is_not_billed() -> None:
    assert billed(record(duration="7")) is None
    sequence = record(annotations=[{"key": "kind", "value": "sequence"}])
    assert billed(sequence) is None
    trigger = {k: v for k, v in record().items() if k not in ("end", "duration")}
    assert billed(trigger) is None


def test_defaults_cold_and_errors() -> None:
    bare = record(annotations=[{"key": "initTime", "value": 5}], response={"statusCode": 2})
    b = billed(bare)
    assert b is not None and (b.name, b.mb_ms, b.cold, b.error) == ("a", 2560, True, True)
    got = summarize([record(), record(duration=0), bare])
    assert [(u.name, u.invocations, u.mb_ms, u.cold_starts, u.errors) for u in got] == [
        ("a", 1, 2560, 1, 1),
        ("pkg/a", 2, 5120, 0, 0),
    ]


@dataclass
class _Subjects:
    system: Identity

    async def by_auth(self, uuid: str, key: str) -> Identity | None:
        return self.system if (uuid, key) == (self.system.uuid, self.system.key) else None


@dataclass
class _Store:
    subjects: _Subjects


def basic(user: str, key: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()


async def test_only_the_operator_passes() -> None:
    system = Identity(namespace="whisk.system", subject="s", uuid="u", key="k" * 64)
    store: Any = _Store(_Subjects(system))
    assert await is_operator(basic("u", "k" * 64), "", store)
    assert not await is_operator(basic("u", "nope"), "", store)
    assert not await is_operator(None, "tok", store)
    assert await is_operator("Bearer tok", "tok", store)
    assert not await is_operator("Bearer tok2", "tok", store)
    # No token configured: a bearer header opens nothing, even an empty one.
    assert not await is_operator("Bearer ", "", store)
    assert not await is_operator("Bearer x", "", store)


def test_null_metrics_count_nothing_and_render_nothing() -> None:
    m = Metrics()
    m.activation("ns", "ns", "a", "k", 256, 0, 1, 1, None)
    with pytest.raises(MetricsUnavailable):
        m.snapshot()


def parsed(m: PrometheusMetrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    body, _ = m.snapshot()()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for f in text_string_to_metric_families(body.decode())
        for s in f.samples
    }


def test_histogram_buckets_are_cumulative_and_sum_in_seconds() -> None:
    m = PrometheusMetrics()
    for duration in (3, 40, 40, 20_000):
        m.activation("ns", "ns", "a", "k", 256, 0, duration, 0, None)
    ids = {("namespace", "ns"), ("initiator", "ns"), ("action", "a")}
    got = parsed(m)
    bucket = "openwhisk_action_duration_seconds_bucket"
    assert got[(bucket, frozenset({*ids, ("le", "0.005")}))] == 1
    assert got[(bucket, frozenset({*ids, ("le", "0.05")}))] == 3
    assert got[(bucket, frozenset({*ids, ("le", "10.0")}))] == 3
    assert got[(bucket, frozenset({*ids, ("le", "+Inf")}))] == 4
    assert got[("openwhisk_action_duration_seconds_sum", frozenset(ids))] == pytest.approx(20.083)
    assert got[("openwhisk_action_coldStarts_total", frozenset(ids))] == 0


def test_openwhisk_names_and_status_values_as_its_dashboards_query_them() -> None:
    m = PrometheusMetrics()
    m.activation("ns", "ns", "a", "k", 256, 1, 3, 0, None)
    m.activation("ns", "ns", "a", "k", 256, 0, 3, 0, 12, size=20, status_code=404)
    body = m.snapshot()()[0].decode()
    lines = body.splitlines()
    # Written as OpenWhisk's Java client wrote them: a counter named without `_total`.
    assert "# TYPE openwhisk_action_status counter" in lines
    assert "# TYPE openwhisk_action_status_code counter" in lines
    ids = 'action="a",initiator="ns",namespace="ns"'
    for status, n in (
        ("success", 1),
        ("application_error", 1),
        ("action_developer_error", 0),
        ("whisk_internal_error", 0),
    ):
        assert f'openwhisk_action_status{{{ids},status="{status}"}} {n}.0' in lines
    assert f'openwhisk_action_status_code{{{ids},status_code="404"}} 1.0' in lines
    assert f"openwhisk_action_response_size_bytes_count{{{ids}}} 1.0" in lines
    assert f"openwhisk_action_response_size_bytes_sum{{{ids}}} 20.0" in lines
    assert f"openwhisk_action_initTime_seconds_sum{{{ids}}} 0.012" in lines


@pytest.mark.parametrize(
    ("result", "code"),
    [
        ({"statusCode": 201, "body": "made"}, 201),
        ({"error": {"statusCode": 404}, "statusCode": 200}, 404),
        ({"statusCode": "teapot"}, 400),
        ({"statusCode": True}, 400),
        ({"body": "no code"}, None),
        ({"error": "plain"}, None),
        ([1, 2], None),
        (None, None),
    ],
)
def test_the_status_code_an_action_sets(result: Any, code: int | None) -> None:
    assert user_status_code(result) == code


class _Balancer:
    def invoker_health(self) -> list[tuple[int, Status]]:
        return [(0, Status.HEALTHY), (1, Status.OFFLINE)]


class _Tracker:
    total_in_flight = 3


def test_controller_gauges() -> None:
    m = PrometheusMetrics()
    gauges.register(m, 7, _Tracker(), _Balancer())  # type: ignore[arg-type]
    got = parsed(m)
    health = "pywhisk_invoker_health"
    at = {("controller", "7")}
    assert got[(health, frozenset({*at, ("invoker", "invoker0"), ("state", "up")}))] == 1
    assert got[(health, frozenset({*at, ("invoker", "invoker1"), ("state", "down")}))] == 1
    assert got[(health, frozenset({*at, ("invoker", "invoker1"), ("state", "up")}))] == 0
    assert got[("pywhisk_controller_activations_in_flight", frozenset(at))] == 3


def test_time_spans_for_wsk() -> None:
    assert parse_time(None, 10_000_000) is None
    assert parse_time("1234", 10_000_000) == 1234
    assert parse_time("90s", 10_000_000) == 10_000_000 - 90_000
    assert parse_time("2d", 1_000_000_000) == 1_000_000_000 - 2 * 86_400_000
    with pytest.raises(click.BadParameter):
        parse_time("yesterday", 0)


def test_usage_table_columns_and_cost() -> None:
    row = {"invocations": 2, "gb_seconds": 0.5, "cold_starts": 1, "errors": 0}
    body = {"actions": [{"name": "a", **row}], "total": row}
    assert usage_table(body).splitlines() == [
        "action  invocations  GB-seconds  cold starts  errors",
        "a                 2    0.500000            1       0",
        "total             2    0.500000            1       0",
    ]
    priced = {**body, "price_per_gb_second": 1.0}
    priced["actions"] = [{"name": "a", **row, "cost": 0.5}]
    priced["total"] = {**row, "cost": 0.5}
    assert usage_table(priced).splitlines()[1].endswith("0.50000000")
