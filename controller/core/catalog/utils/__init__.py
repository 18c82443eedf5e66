"""`/whisk.system/utils`: building blocks that format and assemble data.

The actions and their documentation follow openwhisk-catalog's `utils` package; the code
is ours, in Python (the catalog's is Node.js).
"""

from __future__ import annotations

from pathlib import Path

from pywhisk.controller.core.catalog.model import CatalogAction, CatalogPackage

_HERE = Path(__file__).parent


def _param(name: str, description: str, **extra: object) -> dict[str, object]:
    return {"name": name, "description": description, **extra}


_LINES = _param("lines", "An array of strings", required=True, type="array")

PACKAGE = CatalogPackage(
    name="utils",
    description="Building blocks that format and assemble data",
    actions=(
        CatalogAction(
            "echo",
            _HERE / "echo.py",
            "Returns the input",
            (_param("payload", "Any JSON entity", required=False),),
            {"payload": "Five fuzzy felines"},
            {"payload": "Five fuzzy felines"},
        ),
        CatalogAction(
            "cat",
            _HERE / "cat.py",
            "Concatenates input into a string",
            (_param("lines", "An array of strings or numbers", required=True, type="array"),),
            {"lines": [4, 2, 3]},
            {"lines": [4, 2, 3], "payload": "4\n2\n3"},
        ),
        CatalogAction(
            "sort",
            _HERE / "sort.py",
            "Sorts an array",
            (_LINES,),
            {"lines": [4, 2, 3]},
            {"lines": [2, 3, 4], "length": 3},
        ),
        CatalogAction(
            "head",
            _HERE / "head.py",
            "Extract prefix of an array",
            (_LINES, _param("num", "The length of the prefix", required=False, type="integer")),
            {"lines": [4, 2, 3], "num": 2},
            {"lines": [4, 2], "num": 2},
        ),
        CatalogAction(
            "split",
            _HERE / "split.py",
            "Split a string into an array",
            (
                _param("payload", "A string", required=True),
                _param("separator", "The string to split at (default: line breaks)"),
            ),
            {"payload": "one,two,three", "separator": ","},
            {"lines": ["one", "two", "three"], "payload": "one,two,three"},
        ),
        CatalogAction(
            "smash",
            _HERE / "smash.py",
            "Nests all properties under given property",
            (_param("$fieldName", "Name of property to nest object under", required=True),),
            {"a": 1, "b": {"c": 2}, "$fieldName": "p"},
            {"p": {"a": 1, "b": {"c": 2}}},
        ),
        CatalogAction(
            "date",
            _HERE / "date.py",
            "Current date and time",
            sample_output={"date": "2016-03-22T00:59:55.961Z"},
        ),
        CatalogAction(
            "namespace",
            _HERE / "namespace.py",
            "Returns namespace for the authorization key used to invoke this action",
            sample_output={"namespace": "guest"},
        ),
        CatalogAction(
            "hosturl",
            _HERE / "hosturl.py",
            "Returns the URL to activate an action or trigger",
            (
                _param("web", "True for web actions", type="boolean"),
                _param("ext", "Extension for web action: .html, .http, .json, .svg, .text"),
                _param("trigger", "True for the path of a trigger instead of an action"),
                _param("path", "The action name as <action> or <package>/<action>"),
            ),
            {"web": True, "path": "utils/echo"},
            {"url": "http://127.0.0.1:3233/api/v1/web/guest/utils/echo"},
        ),
    ),
)
