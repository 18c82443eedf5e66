"""Activation records: the API form OpenWhisk returns (docs/openwhisk-compatibility.md §2.6)."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from pywhisk.common import jsonio
from pywhisk.common.entities.params import Params
from pywhisk.common.entities.params import get as get_param


class Status(IntEnum):
    SUCCESS = 0
    APPLICATION_ERROR = 1
    DEVELOPER_ERROR = 2
    WHISK_ERROR = 3

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Status.SUCCESS: "success",
    Status.APPLICATION_ERROR: "application error",
    Status.DEVELOPER_ERROR: "action developer error",
    Status.WHISK_ERROR: "whisk internal error",
}
_BY_LABEL = {label: status for status, label in _LABELS.items()}


class ActivationResponse(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: Status
    result: Any = None
    # OW reports the length of the container's raw reply when there was one (its own
    # spacing included); None: the serialized result's length.
    size: int | None = None

    @classmethod
    def error(cls, status: Status, message: str) -> ActivationResponse:
        return cls(status=status, result={"error": message})

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status.label,
            "statusCode": int(self.status),
            "success": self.status == Status.SUCCESS,
            "result": self.result,
        }
        if self.result is not None:
            out["size"] = self.size if self.size is not None else jsonio.size(self.result)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ActivationResponse:
        code = data.get("statusCode")
        status = Status(code) if code is not None else _BY_LABEL[data["status"]]
        return cls(status=status, result=data.get("result"), size=data.get("size"))


class Activation(BaseModel):
    model_config = ConfigDict(frozen=True)

    namespace: str  # the invoking user's namespace
    name: str
    version: str = "0.0.1"
    subject: str
    activation_id: str
    start: int
    end: int = 0  # 0 = never ended (trigger activations): end/duration are omitted
    duration: int | None = None
    cause: str | None = None
    response: ActivationResponse
    logs: tuple[str, ...] = ()
    annotations: Params = ()
    publish: bool = False

    def annotation(self, key: str, default: Any = None) -> Any:
        return get_param(self.annotations, key, default)

    def to_json(self) -> dict[str, Any]:
        """The API form (OW toExtendedJson) plus `statusCode` kept for summaries."""
        out: dict[str, Any] = {
            "namespace": self.namespace,
            "name": self.name,
            "version": self.version,
            "subject": self.subject,
            "activationId": self.activation_id,
            "start": self.start,
        }
        if self.end:
            out["end"] = self.end
            out["duration"] = self.duration if self.duration is not None else self.end - self.start
        if self.cause:
            out["cause"] = self.cause
        out["response"] = self.response.to_json()
        out["logs"] = list(self.logs)
        out["annotations"] = [a.to_json() for a in self.annotations]
        out["publish"] = self.publish
        return out


def api_form(doc: dict[str, Any]) -> dict[str, Any]:
    """Stored record → what GET /activations/{id} returns (no statusCode inside response)."""
    response = {k: v for k, v in doc["response"].items() if k != "statusCode"}
    return {**doc, "response": response}


def summary(doc: dict[str, Any]) -> dict[str, Any]:
    """Stored record → list item (OW activations view): no response/logs, top-level statusCode."""
    out = {
        k: doc[k]
        for k in ("namespace", "name", "version", "publish", "annotations", "activationId", "start")
    }
    for k in ("end", "duration", "cause"):
        if k in doc:
            out[k] = doc[k]
    if "end" in doc:
        out["statusCode"] = doc["response"].get("statusCode", 0)
    return out
