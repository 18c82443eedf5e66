"""Action sources that more than one test module deploys: the same action tried through
different doors (the REST API and `wsk`, or a server and the nginx in front of it)."""

from __future__ import annotations

# A web action answering GET /todos/{id} of an API route: "todo <id> <the path under it>".
SHOW_TODO = (
    "def main(args):\n"
    "    return {'statusCode': 200, 'headers': {'Content-Type': 'text/plain'},\n"
    "            'body': 'todo ' + args.get('id', '?') + ' ' + args['__ow_path']}\n"
)

# A sequence's three components in three languages: split (Python) → sort (PHP, which
# refuses the word "boom" with an application error) → join (Node.js, joining with `glue`).
SPLIT = "def main(args):\n    return {'words': args.get('text', '').split(args.get('sep', ' '))}\n"
SORT = (
    "<?php\n"
    "function main(array $args) : array {\n"
    "    $words = $args['words'] ?? [];\n"
    "    if (in_array('boom', $words)) { return ['error' => 'cannot sort boom']; }\n"
    "    sort($words);\n"
    "    return ['words' => $words];\n"
    "}\n"
)
JOIN = "function main(params) {\n  return { text: params.words.join(params.glue) };\n}\n"
