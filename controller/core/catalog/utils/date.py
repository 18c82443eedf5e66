"""/whisk.system/utils/date: the current date and time, ISO-8601 in UTC."""

from datetime import UTC, datetime


def main(args):
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    print("It is now", now)
    return {"date": now}
