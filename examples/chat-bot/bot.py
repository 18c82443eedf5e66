"""A Telegram bot's webhook as a web action.

Telegram POSTs each update (a JSON object) to the webhook URL; the platform hands its fields
to `main` as arguments. The bot answers inside the webhook's HTTP response, as the Bot API
allows: a JSON body naming a method (`sendMessage`) and its parameters. So a reply costs
no second request and the action needs no bot token.

Parameter bound at deploy time (final, so an update cannot replace it):
  secret_token  the secret given to setWebhook; Telegram sends it back in the
                X-Telegram-Bot-Api-Secret-Token header of every update
"""

import hmac

HELP = (
    "I know these commands:\n"
    "/start - say hello\n"
    "/help - this list\n"
    "/echo TEXT - repeat TEXT\n"
    "/reverse TEXT - TEXT backwards"
)


def respond(status, body=None):
    response = {"statusCode": status}
    if body is not None:
        response["headers"] = {"Content-Type": "application/json"}
        response["body"] = body
    return response


def reply_to(text, sender):
    command, _, rest = text.strip().partition(" ")
    command = command.split("@")[0].lower()  # "/help@MyBot" in group chats
    if command == "/start":
        return f"Hello {sender.get('first_name', 'there')}! Send /help to see what I can do."
    if command == "/help":
        return HELP
    if command == "/echo":
        return rest or "Echo what? Try /echo hello"
    if command == "/reverse":
        return rest[::-1] or "Reverse what? Try /reverse hello"
    if command.startswith("/"):
        return f"I do not know {command}. Send /help for the list."
    return f"You said: {text}"


def main(args):
    expected = args.get("secret_token", "")
    given = args.get("__ow_headers", {}).get("x-telegram-bot-api-secret-token", "")
    if expected and not hmac.compare_digest(given.encode(), expected.encode()):
        return respond(403, {"error": "wrong or missing secret token"})
    if args.get("__ow_method") != "post":
        return {"statusCode": 405, "headers": {"Allow": "POST"}}

    message = args.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("text"), str):
        # other updates (edits, stickers, members joining): acknowledge, so Telegram
        # does not send them again
        return respond(200)
    print(f"update {args.get('update_id')} from chat {message['chat']['id']}")
    return respond(
        200,
        {
            "method": "sendMessage",
            "chat_id": message["chat"]["id"],
            "reply_to_message_id": message["message_id"],
            "text": reply_to(message["text"], message.get("from", {})),
        },
    )
