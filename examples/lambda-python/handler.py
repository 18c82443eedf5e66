"""A Lambda handler as AWS documents it for Python: the event in, a JSON-able value out.

It knows nothing of pywhisk: AWS's runtime interface client (awslambdaric, bundled beside
it) fetches each event from the Lambda Runtime API and calls hello(event, context).
"""

from typing import Any


def hello(event: dict[str, Any], context: Any) -> dict[str, str]:
    name = event.get("name", "World")
    print(f"{context.function_name} handles {context.aws_request_id}")
    if name == "":
        raise ValueError("the name is empty")
    return {"msg": f"Hello {name}", "memory": context.memory_limit_in_mb}
