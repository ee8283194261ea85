"""What one feed entry costs to render, piece by piece (the floor under the feed view's time).

    .venv/bin/python benchmarks/templates.py --database-url sqlite:////tmp/aui-bench-1m.sqlite3

Reads alice's first team-feed page from a database seeded by benchmarks/run.py (or
`seed_demo`), then renders the feed's entry template, and each piece of it alone, for every
row of that page inside one RequestContext (as the feed page does), and prints microseconds
per row: median of --repeat runs. No query is made while rendering.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PIECES = [
    ("the whole row (activityui/_feed_item.html)", '{% include "activityui/_feed_item.html" %}'),
    (
        "follow button (_follow_button.html, rows that have one)",
        "{% with follow=item.follow %}{% if follow %}"
        '{% include "activityui/_follow_button.html" with small=True %}{% endif %}{% endwith %}',
    ),
    (
        "changes (_changes.html, rows that have some)",
        "{% with entry=item.entry %}{% if entry.changes %}"
        '{% include "activityui/_changes.html" %}{% endif %}{% endwith %}',
    ),
    ("time: {% aui_time %} (date format + relative time)", "{% aui_time item.entry.timestamp %}"),
    ("one object link: {{ ref|aui_ref }}", "{{ item.entry.actor|aui_ref }}"),
    ("one {% static %}", '{% static "activityui/icons.svg" %}'),
    ('one {% translate "in" %}', '{% translate "in" %}'),
    ("one plain variable {{ entry.phrase }}", "{{ item.entry.phrase }}"),
    ("the loop alone", ""),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="sqlite:////tmp/aui-bench-1m.sqlite3")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_site.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.template import RequestContext, engines
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from activityui.days import feed_days
    from activityui.follows import followable_types
    from activityui.presenters import present
    from activityui.selectors import feed_stream, stream_page

    alice = get_user_model().objects.get(username="alice")
    page = stream_page(feed_stream(user=alice, feed="team"), size=25)
    days = feed_days(present(page.actions), followable=followable_types())
    items = [item for day in days for item in day.items]
    request = RequestFactory().get("/activity/")
    request.user = alice
    engine = engines["django"].engine
    print(f"{len(items)} rows (alice's first team-feed page), {args.repeat} runs, µs per row:\n")
    print("| piece | µs per row |")
    print("| --- | ---: |")
    for label, body in PIECES:
        template = engine.from_string(
            "{% load i18n static activityui %}{% for item in items %}" + body + "{% endfor %}"
        )
        context = RequestContext(request, {"items": items})
        template.render(context)
        times = []
        with CaptureQueriesContext(connection) as queries:
            for _ in range(args.repeat):
                started = time.perf_counter()
                template.render(context)
                times.append((time.perf_counter() - started) / len(items) * 1e6)
        assert not queries.captured_queries, "a template made a query"
        print(f"| {label} | {statistics.median(times):.0f} |")


if __name__ == "__main__":
    main()
