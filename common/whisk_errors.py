"""One log line for every whisk internal error, wherever the platform decides one.

A whisk internal error is the platform's failure, not the action's: the user can only retry,
and the operator can only find out why from the server's log. So each one is logged at ERROR,
on one line an operator can grep for (`whisk internal error: activation <id>`), with the
transaction id that ties it to the request and the cause as the deciding code knew it, in the
same words whether the invoker (a container that could not be had), the controller (an
invoker gone, a sequence cut short, a rule that could not invoke) or the start-up recovery
(an activation the last stop interrupted) decided it.
"""

from __future__ import annotations

import logging

PREFIX = "whisk internal error: activation"


def log_whisk_error(
    log: logging.Logger,
    activation_id: str,
    transid: str | None,
    error: str,
    cause: str | None = None,
    action: str | None = None,
) -> None:
    """`error` is what the record says (the user sees it); `cause` what the code knew of why,
    for the operator; `action` the action's name when the caller has it."""
    of = f" of {action}" if action else ""
    log.error(
        "%s %s (transaction %s)%s: %s (cause: %s)",
        PREFIX,
        activation_id,
        transid or "not known",
        of,
        error,
        cause or "not known",
    )
