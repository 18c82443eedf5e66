"""The docker:// factory's URL options and what it says without the SDK (no engine needed)."""

from __future__ import annotations

import sys

import pytest

from pywhisk.common.config import Settings
from pywhisk.invoker.containers.base import ContainerError, factory_from_url


def test_without_the_sdk_it_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "docker", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "pywhisk.invoker.containers.docker", raising=False)
    with pytest.raises(ContainerError) as info:
        factory_from_url("docker://", Settings())
    assert str(info.value) == (
        "docker:// containers need the Docker SDK for Python: pip install 'pywhisk[docker]'"
    )


@pytest.mark.parametrize(
    ("url", "network", "direct"),
    [
        ("docker://", "pywhisk-actions", None),
        ("docker://?network=pywhisk_default", "pywhisk_default", None),
        ("docker://?direct=0", "pywhisk-actions", False),
        ("docker://?direct=1&network=n", "n", True),
    ],
)
def test_url_options(url: str, network: str, direct: bool | None) -> None:
    factory = factory_from_url(url, Settings(invoker_id=3))
    assert (factory.network, factory.direct, factory.invoker_id) == (network, direct, 3)  # type: ignore[attr-defined]


def test_an_unknown_output_is_refused() -> None:
    with pytest.raises(ContainerError) as info:
        factory_from_url("docker://?output=logs", Settings())
    assert str(info.value) == "docker://?output= takes fifo or attach, not 'logs'"
