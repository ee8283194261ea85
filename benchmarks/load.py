"""Load test: wrk against gunicorn on 127.0.0.1, feed page and poll endpoint, bounded in time.

    .venv/bin/python benchmarks/load.py --database-url sqlite:////tmp/aui-bench-1m.sqlite3
    .venv/bin/python benchmarks/load.py \
        --database-url postgres://postgres@127.0.0.1:5432/aui_bench_1m \
        --redis-url redis://127.0.0.1:6379/1

Needs a database seeded by benchmarks/run.py (or `seed_demo --actions N`) and `wrk` (Debian:
apt-get install wrk). Starts gunicorn (sync workers, DEBUG off) on a loopback port, signs alice
in (a session row, as the login view would make), runs wrk with 50 connections for 60 s on
the team feed page and then on the poll (`?after=<newest>` with the htmx headers of the
polling sentinel: 204 when nothing is new), prints a Markdown table and stops gunicorn.
Only loopback traffic. With --redis-url (or REDIS_URL) the workers share Django's Redis cache
(sessions, the poll memo, rendered rows), as a deployment with several workers would.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_wrk(output: str) -> dict[str, str]:
    result = {"rps": "?", "p50": "?", "p95": "?", "p99": "?", "errors": "0", "requests": "?"}
    if match := re.search(r"Requests/sec:\s+([\d.]+)", output):
        result["rps"] = f"{float(match.group(1)):.0f}"
    if match := re.search(r"(\d+) requests in", output):
        result["requests"] = match.group(1)
    for label, key in (("50%", "p50"), ("90%", "p90"), ("99%", "p99")):
        if match := re.search(rf"^\s+{re.escape(label)}\s+(\S+)", output, re.M):
            result[key] = match.group(1)
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(match.group(1))
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(n) for n in match.groups())
    result["errors"] = str(errors)
    return result


PERCENTILES_LUA = """
done = function(summary, latency, requests)
  io.write(string.format("P95 %.2fms\\n", latency:percentile(95) / 1000))
end
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="sqlite:////tmp/aui-bench-1m.sqlite3")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL", ""),
        help="Django's cache for the workers (REDIS_URL): sessions, poll memo and rendered rows "
        "shared by every worker; empty: each worker's own local memory",
    )
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=60, help="seconds per endpoint")
    args = parser.parse_args()
    duration = min(args.duration, 120)  # bounded, whatever is asked

    env = {**os.environ, "DATABASE_URL": args.database_url, "DJANGO_DEBUG": "0"}
    env.pop("REDIS_URL", None)
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    env.setdefault("DJANGO_SETTINGS_MODULE", "demo_site.settings")
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore

    from activityui.cursors import encode_cursor
    from activityui.selectors import action_list_for_feed

    alice = get_user_model().objects.get(username="alice")
    session = SessionStore()
    session[SESSION_KEY] = str(alice.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]  # as login() would
    session[HASH_SESSION_KEY] = alice.get_session_auth_hash()
    session.create()
    newest = action_list_for_feed(user=alice, feed="team").values_list("timestamp", "pk")[0]
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
    base = f"http://127.0.0.1:{args.port}"

    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),  # beside this Python (the venv's)
            "demo_site.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "sync",
            "--backlog",
            "512",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{base}/login/", timeout=2)  # noqa: S310
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                time.sleep(0.2)
        # the session really signs alice in: a redirect to the login page would be measured
        # as a (much faster) answer otherwise, since wrk counts a 302 as a success
        check = urllib.request.Request(f"{base}/activity/", headers={"Cookie": cookie})
        with urllib.request.urlopen(check, timeout=30) as answer:  # noqa: S310
            page = answer.read().decode()
            if answer.status != 200 or answer.geturl() != f"{base}/activity/":
                sys.exit(
                    f"the feed did not answer alice's session: {answer.status} {answer.geturl()}"
                )
            if 'class="aui-entry' not in page:
                sys.exit("the feed page shows no entries: is the database seeded?")
        lua = Path("/tmp/aui-wrk-p95.lua")
        lua.write_text(PERCENTILES_LUA)
        targets = [
            ("Team feed page (/activity/)", f"{base}/activity/", []),
            (
                "Poll, no news (/activity/?after=…, htmx)",
                f"{base}/activity/?after={encode_cursor(*newest)}",
                ["-H", "HX-Request: true", "-H", "HX-Target: feed-banner"],
            ),
        ]
        rows = []
        for label, url, headers in targets:
            # warm every worker up first
            subprocess.run(
                ["wrk", "-t2", "-c4", "-d3s", "-H", f"Cookie: {cookie}", *headers, url],
                capture_output=True,
                check=False,
            )
            started = time.monotonic()
            completed = subprocess.run(
                [
                    "wrk",
                    "-t2",
                    f"-c{args.connections}",
                    f"-d{duration}s",
                    "--timeout",
                    "10s",
                    "--latency",
                    "-s",
                    str(lua),
                    "-H",
                    f"Cookie: {cookie}",
                    *headers,
                    url,
                ],
                capture_output=True,
                text=True,
                check=False,
                timeout=duration + 60,
            )
            print(completed.stdout, file=sys.stderr)
            stats = parse_wrk(completed.stdout)
            if match := re.search(r"P95 ([\d.]+)ms", completed.stdout):
                stats["p95"] = f"{float(match.group(1)):.2f}ms"
            stats["seconds"] = f"{time.monotonic() - started:.0f}"
            rows.append((label, stats))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        session.delete()

    load = os.getloadavg()[0]
    print(
        f"gunicorn {args.workers} sync workers, wrk -t2 -c{args.connections} -d{duration}s, "
        f"{args.database_url.split('://')[0]}, cache "
        f"{'Redis (' + args.redis_url + ')' if args.redis_url else 'local memory per worker'}, "
        f"load {load:.1f} at the end\n"
    )
    print("| endpoint | requests/s | p50 | p95 | p99 | requests | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, s in rows:
        print(
            f"| {label} | {s['rps']} | {s['p50']} | {s['p95']} | {s['p99']} "
            f"| {s['requests']} | {s['errors']} |"
        )


if __name__ == "__main__":
    main()
