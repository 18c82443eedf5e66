"""Photo of the day: render the newest photo of a Project 365 as a static HTML page.

Run on a schedule (an alarm trigger and a rule): reads the photo list from an HTTP API
(`api`: a URL answering `[{"date": "2026-11-30", "title": "…", "url": "…"}, …]`), renders
`index.html` (the newest photo, then the earlier ones) and writes it to the directory `out`,
only when it changed, atomically, so a web server in front never serves half a page.
"""

import html
import json
import os
import tempfile
import urllib.request

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:auto}} img{{max-width:100%}}
ul{{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:1em}} li img{{width:10em}}</style>
</head>
<body>
<h1>Photo of the day</h1>
<figure id="today"><img src="{url}" alt="{alt}"><figcaption>{date}: {alt}</figcaption></figure>
<h2>Earlier ({count} days)</h2>
<ul>
{earlier}
</ul>
</body>
</html>
"""
ITEM = '<li><a href="{url}"><img src="{url}" alt="{alt}"></a><br>{date}</li>'


def fetch(api):
    with urllib.request.urlopen(api, timeout=20) as answer:
        photos = json.loads(answer.read())
    if not isinstance(photos, list):
        raise ValueError("the photo API did not answer a list")
    return sorted(photos, key=lambda p: str(p["date"]), reverse=True)


def render(photos):
    def fields(photo):
        return {
            "url": html.escape(str(photo["url"]), quote=True),
            "alt": html.escape(str(photo.get("title", ""))),
            "date": html.escape(str(photo["date"])),
        }

    today, earlier = photos[0], photos[1:]
    return PAGE.format(
        title=html.escape(f"{today['date']}: {today.get('title', '')}"),
        count=len(earlier),
        earlier="\n".join(ITEM.format(**fields(p)) for p in earlier),
        **fields(today),
    )


def write_if_changed(directory, name, text):
    path = os.path.join(directory, name)
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return False
    except FileNotFoundError:
        pass
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".index-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return True


def main(args):
    if not args.get("api") or not args.get("out"):
        return {"error": "parameters api (the photo list's URL) and out (a directory) are needed"}
    try:
        photos = fetch(args["api"])
    except (OSError, ValueError, KeyError) as e:
        return {"error": f"cannot read the photos at {args['api']}: {e}"}
    if not photos:
        return {"updated": False, "photos": 0}
    updated = write_if_changed(args["out"], "index.html", render(photos))
    return {"updated": updated, "photos": len(photos), "today": photos[0]["date"]}
