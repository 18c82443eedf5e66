"""The design documents (views) `CouchDBStore` reads through, one per database.

Map functions are ES5 so they run on CouchDB 3's SpiderMonkey and on pouchdb-server alike.
A design document's name carries its version: `open()` only creates a missing one and never
rewrites one that exists, so processes of two releases can share a database during an
upgrade, each querying its own views. Change a view's code => bump the version in its name.
"""

from __future__ import annotations

from typing import Any

# -- whisks: actions, triggers, rules, packages ------------------------------------------------
# Key [entityType, collection, updated]: the collection is the entity's `namespace` field
# (`ns` or `ns/pkg`); an entity in a package is emitted a second time under its root
# namespace, so listing `ns` covers its packages, as OpenWhisk's entity views do.
_ENTITIES_MAP = """function (doc) {
  if (typeof doc.entityType !== 'string' || typeof doc.namespace !== 'string') return;
  if (doc.entityType === 'activation') return;
  var updated = typeof doc.updated === 'number' ? doc.updated : 0;
  var root = doc.namespace.split('/')[0];
  emit([doc.entityType, doc.namespace, updated], null);
  if (root !== doc.namespace) emit([doc.entityType, root, updated], null);
}"""

_PUBLIC_MAP = _ENTITIES_MAP.replace(
    "if (doc.entityType === 'activation') return;",
    "if (doc.entityType === 'activation' || !doc.publish) return;",
)

WHISKS = "pywhisk.whisks.v1"
WHISKS_DESIGN: dict[str, Any] = {
    "language": "javascript",
    "views": {
        "entities": {"map": _ENTITIES_MAP, "reduce": "_count"},
        "public": {"map": _PUBLIC_MAP, "reduce": "_count"},
    },
}

# -- activations --------------------------------------------------------------------------------
# `name` is the `[pkg/]action` filter of `common.store.records.activation_filter_name`: through
# a binding, the binding's name and the record's; else what follows the namespace in the
# `path` annotation, else the record's name.
_BY_NAME_MAP = """function (doc) {
  if (typeof doc.activationId !== 'string' || typeof doc.namespace !== 'string') return;
  var start = typeof doc.start === 'number' ? doc.start : 0;
  var name = String(doc.name);
  var path = null, binding = null;
  var annotations = doc.annotations || [];
  for (var i = 0; i < annotations.length; i++) {
    var a = annotations[i];
    if (a && a.key === 'path' && typeof a.value === 'string') path = a.value;
    if (a && a.key === 'binding' && typeof a.value === 'string') binding = a.value;
  }
  var cut;
  if (binding !== null && (cut = binding.indexOf('/')) >= 0) {
    name = binding.slice(cut + 1) + '/' + String(doc.name);
  } else if (path !== null) {
    cut = path.indexOf('/');
    var rest = cut < 0 ? '' : path.slice(cut + 1);
    if (rest) name = rest;
  }
  emit([doc.namespace, name, start], null);
}"""

_BY_NAMESPACE_MAP = """function (doc) {
  if (typeof doc.activationId !== 'string' || typeof doc.namespace !== 'string') return;
  emit([doc.namespace, typeof doc.start === 'number' ? doc.start : 0], null);
}"""

ACTIVATIONS = "pywhisk.activations.v2"
ACTIVATIONS_DESIGN: dict[str, Any] = {
    "language": "javascript",
    "views": {
        "by_namespace": {"map": _BY_NAMESPACE_MAP, "reduce": "_count"},
        "by_name": {"map": _BY_NAME_MAP, "reduce": "_count"},
    },
}

# Usage (common.store.usage): key [namespace, start], value [name, MB·ms, cold, error] for
# each billed record; the store sums a range's values. A design document of its own, so
# adding it rebuilds no listing view.
_USAGE_MAP = _BY_NAME_MAP.replace(
    "  emit([doc.namespace, name, start], null);",
    """  if (typeof doc.duration !== 'number' || doc.end === undefined) return;
  var kind = null, limits = null, cold = 0;
  for (var j = 0; j < annotations.length; j++) {
    var b = annotations[j];
    if (!b) continue;
    if (b.key === 'kind') kind = b.value;
    if (b.key === 'limits') limits = b.value;
    if (b.key === 'initTime') cold = 1;
  }
  if (kind === 'sequence') return;
  var memory = limits && typeof limits.memory === 'number' ? limits.memory : 256;
  var status = doc.response && typeof doc.response.statusCode === 'number'
    ? doc.response.statusCode : 0;
  emit([doc.namespace, start],
       [name, memory * Math.max(doc.duration, 0), cold, status !== 0 ? 1 : 0]);""",
)

USAGE = "pywhisk.usage.v1"
USAGE_DESIGN: dict[str, Any] = {"language": "javascript", "views": {"usage": {"map": _USAGE_MAP}}}

# -- subjects -----------------------------------------------------------------------------------
# Documents in OpenWhisk's shape (docs/openwhisk-compatibility.md §2.7): a subject `{_id: subject, subject,
# namespaces: [{name, uuid, key}]}`, optional `blocked`, and a limits document `<ns>/limits`.
# Keys [ns] and [uuid, key] as OW's `identities` view; the value links the limits document,
# so a query with include_docs=true answers identity and limits in one request.
_IDENTITIES_MAP = """function (doc) {
  if (!doc.namespaces || doc.blocked) return;
  for (var i = 0; i < doc.namespaces.length; i++) {
    var ns = doc.namespaces[i];
    var value = {_id: ns.name + '/limits', namespace: ns.name, uuid: ns.uuid, key: ns.key};
    emit([ns.name], value);
    emit([ns.uuid, ns.key], value);
  }
}"""

SUBJECTS = "pywhisk.subjects.v1"
SUBJECTS_DESIGN: dict[str, Any] = {
    "language": "javascript",
    "views": {"identities": {"map": _IDENTITIES_MAP}},
}
