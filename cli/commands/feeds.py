"""Feeds as ``wsk`` drives them (openwhisk-cli commands/trigger.go): the client, not the
controller, invokes a trigger's feed action, blocking, with ``lifecycleEvent``,
``triggerName`` and ``authKey`` beside the user's parameters; the feed's activation is
printed as wsk prints it.

A feed that refuses (its activation failed) ends the command with an ``error:`` line in
openwhisk-cli's words, ``Unable to create trigger 'T': Unable to configure feed '/ns/feed':
<the feed's message>``, after the activation. The Go wsk composes that message too, but
inherits the hidden flag of the application error inside it, so it prints only the
activation (some 50 lines of JSON) and leaves the reason to be found in it; and it ignores a
feed's refusal of READ and DELETE (exit 0). Here `get` and `delete` exit non-zero too: a
feed that failed to stop may still fire at a trigger that is gone, which a script must see.
"""

from __future__ import annotations

from typing import Any

from pywhisk.cli.client import Reply
from pywhisk.cli.errors import WskError, wrap
from pywhisk.cli.names import QualifiedName, parse_name_or_fail
from pywhisk.cli.session import Session

from .action import failed_activation, print_invocation, print_not_finished
from .action_put import action_url

LIFECYCLE_EVENT = "lifecycleEvent"
TRIGGER_NAME = "triggerName"
AUTH_KEY = "authKey"
FEED_ANNOTATION = "feed"


def feed_arguments(
    session: Session, trigger: QualifiedName, event: str, params: dict[str, Any]
) -> dict[str, Any]:
    """The user's parameters with the lifecycle ones added (wsk appends them last)."""
    return {
        **params,
        LIFECYCLE_EVENT: event,
        TRIGGER_NAME: f"/{trigger.namespace}/{trigger.entity_name}",
        AUTH_KEY: session.props.auth,
    }


def invoke_feed(session: Session, feed: QualifiedName, arguments: dict[str, Any]) -> Reply:
    """Invoke the feed action blocking; a failed activation raises as wsk's invoke does."""
    client = session.client
    reply = client.request(
        "POST",
        action_url(client, feed),
        query=[("blocking", "true"), ("result", "false")],
        body=arguments,
        timeout_is_error=True,
        activation_reply=True,
    )
    failed = failed_activation(reply.body)
    if failed is not None:
        raise failed
    return reply


def feed_error(message: str, cause: WskError) -> WskError:
    """``cause`` (a feed's failure) wrapped in ``message``, always shown on an error line."""
    err = wrap(message, cause)
    err.display_msg = True
    err.display_usage = False
    return err


def print_feed_failure(feed: QualifiedName, err: WskError) -> None:
    """``printFailedBlockingInvocationResponse`` (no header): what the feed answered."""
    if err.timed_out:
        print_not_finished(feed, err)
    elif err.application_error:
        print_invocation(feed, err.body, err.headers, header=False, to_stderr=True)


def configure_feed(session: Session, feed_name: str, arguments: dict[str, Any]) -> None:
    """``configureFeed``: READ, UPDATE and DELETE, printing the feed's activation."""
    feed = parse_name_or_fail(feed_name, session.namespace)
    try:
        reply = invoke_feed(session, feed, arguments)
    except WskError as err:
        print_feed_failure(feed, err)
        raise wrap(f"Unable to configure feed '{feed_name}': {err}", err, usage=True) from None
    print_invocation(feed, reply.body, reply.headers, header=False)


def feed_of(trigger: Any) -> str:
    """The feed action a trigger was created with, or "" for none."""
    if not isinstance(trigger, dict):
        return ""
    for item in trigger.get("annotations") or []:
        if isinstance(item, dict) and item.get("key") == FEED_ANNOTATION:
            return str(item.get("value") or "")
    return ""
