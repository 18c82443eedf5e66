"""Sequences (docs/openwhisk-compatibility.md §6.1): `checks` validates a sequence at PUT (pure), `run` runs one
in the controller, `accounting` keeps each step's bookkeeping and builds the record."""
