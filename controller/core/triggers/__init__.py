"""Triggers and what fires them (docs/openwhisk-compatibility.md §1.4, §1.5): `firing` fires a trigger's active
rules, `docs` reads trigger documents and makes the writes rules and webhooks need,
`webhooks` holds the webhook secrets (a pywhisk extension)."""
