"""The platform's refusals, as OpenWhisk words them: a status and a message.

The core raises `ApiError` and knows nothing of HTTP frameworks; the API's face
(`controller/api/responses.py`) turns one into the body every OpenWhisk error has,
`{"error": message, "code": transid}` (docs/openwhisk-compatibility.md §1.1).
"""

from __future__ import annotations

from http import HTTPStatus

NOT_FOUND = "The requested resource does not exist."
FORBIDDEN = "The supplied authentication is not authorized to access this resource."
UNAUTHORIZED = "The supplied authentication is invalid."
CONFLICT = "resource already exists"
CONCURRENT_MODIFICATION = "Concurrent modification to resource detected."
WRONG_COLLECTION = "Resource by this name exists but is not in this collection."
UNAVAILABLE = (
    "The server is currently unavailable (because it is overloaded or down for maintenance)."
)
INTERNAL = "There was an error processing your request."


class ApiError(Exception):
    def __init__(
        self, status: int, message: str | None = None, headers: dict[str, str] | None = None
    ):
        super().__init__(message)
        self.status = status
        self.message = message or default_message(status)
        self.headers = headers or {}


def default_message(status: int) -> str:
    if status == 404:
        return NOT_FOUND
    if status == 403:
        return FORBIDDEN
    if status == 401:
        return UNAUTHORIZED
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def not_authorized(fqname: str) -> ApiError:
    """OW entitlement's refusal, naming the resource (`ns[/pkg][/name]`) it refused."""
    return ApiError(403, f"The supplied authentication is not authorized to access '{fqname}'.")


def malformed(detail: str) -> ApiError:
    return ApiError(400, f"The request content was malformed:\n{detail}")
