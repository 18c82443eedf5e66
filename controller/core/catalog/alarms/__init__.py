"""`/whisk.system/alarms`: fire a trigger on a schedule (openwhisk-package-alarms' feeds).

The three feeds share one action code (`catalog/feed_action.py`); as in OpenWhisk, `once`
and `interval` differ from `alarm` by a bound parameter (`fireOnce`, `isInterval`), and
the package binds `trigger_payload` to `''` (no payload).
"""

from __future__ import annotations

from pathlib import Path

from pywhisk.controller.core.catalog.model import CatalogAction, CatalogPackage

FEED = Path(__file__).parent.parent / "feed_action.py"


def _param(name: str, description: str, required: bool = False) -> dict[str, object]:
    return {"name": name, "required": required, "description": description}


_PAYLOAD = _param(
    "trigger_payload", "The trigger's event: an object, or a string sent as {payload}"
)
_START = _param("startDate", "When the schedule starts: ISO 8601 or epoch milliseconds")
_STOP = _param("stopDate", "When the schedule stops: ISO 8601 or epoch milliseconds")

PACKAGE = CatalogPackage(
    name="alarms",
    description="Alarms and periodic utility",
    bound={"trigger_payload": ""},
    parameters=(_PAYLOAD,),
    actions=(
        CatalogAction(
            "alarm",
            FEED,
            "Fire trigger when alarm occurs",
            (
                _param("cron", "5 fields, or 6 with seconds first; UTC unless timezone", True),
                _param("timezone", "An IANA time zone, e.g. Europe/Berlin"),
                _START,
                _STOP,
                _param("maxTriggers", "Stop after this many fires (no stopDate then)"),
                _param("strict", "Accepted for compatibility: alarms fire on the second"),
            ),
            feed=True,
        ),
        CatalogAction(
            "once",
            FEED,
            "Fire trigger once when alarm occurs",
            (
                _param("date", "When: ISO 8601 or epoch milliseconds", True),
                _param(
                    "deleteAfterFire", "false, true (delete the trigger) or rules (and its rules)"
                ),
            ),
            feed=True,
            bound={"fireOnce": True},
        ),
        CatalogAction(
            "interval",
            FEED,
            "Fire trigger at specified interval",
            (
                _param("minutes", "Minutes between two fires", True),
                _param("startDate", "First fire (default: 30 seconds after creation)"),
                _STOP,
            ),
            feed=True,
            bound={"isInterval": True},
        ),
    ),
)
