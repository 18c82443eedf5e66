# Reads the writable memory of the given processes through /proc/PID/mem and returns what
# matches the patterns.
import re


def scan(pid, patterns):
    found = []
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            if "r" not in fields[1] or "w" not in fields[1]:
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if end - start > 256 << 20:
                continue
            try:
                mem.seek(start)
                chunk = mem.read(end - start)
            except (OSError, ValueError, OverflowError):
                continue
            found += [m.decode() for p in patterns for m in re.findall(p.encode(), chunk)]
    return found


def main(args):
    found: list[str] = []
    report: dict[str, str | None] = {}
    for pid in args.get("pids", []):
        try:
            hits = scan(pid, args.get("patterns", []))
            found += hits
            report[str(pid)] = f"scanned, {len(hits)} hits"
        except OSError as e:
            report[str(pid)] = e.strerror
    return {"found": sorted(set(found))[:200], "report": report}
