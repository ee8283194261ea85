"""Rendered rows, cached: the HTML of a feed or timeline row, kept in Django's cache.

Actions never change once written and their labels are snapshots, so the HTML of a row is a
pure function of the action(s) it shows, the language, the time zone (its ``<time>`` title is
local), the URL prefix and the templates that draw it. That is the cache key
(:func:`row_key`). What differs per viewer or per moment stays out of the cached HTML:

- per viewer (follow button, "new", the "since your last visit" divider): the row templates
  draw them outside their ``{% aui_cached_row %}`` block, on every request;
- per moment (the relative time, "5 minutes ago"): ``{% aui_time %}`` inside a block writes a
  slot (:data:`AGO_SLOT`) that :func:`fill_slots` fills on every request, cached or not, so a
  cached row never shows a stale time; activityui.js keeps it right while the page stays open.

A host that overrides a row template (``activityui/_entry.html``, ``_feed_item.html``,
``_timeline_entry.html``, ``_changes.html``, ``_change.html``) changes
:func:`templates_version`, so rows drawn by the old template are never served (they expire).
A cache that fails is a miss, never an error. Settings: ``ROW_CACHE`` (the cache alias, None
turns it off), ``ROW_CACHE_TIMEOUT``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.cache import caches
from django.template.loader import get_template
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.translation import get_language

from activityui.conf import app_settings

log = logging.getLogger("activityui")

ROW_FORMAT = "2"  # bump when Python code changes what a cached row's HTML holds
# the templates a cached row is drawn from: overriding any of them changes every key
ROW_TEMPLATES = (
    "activityui/_entry.html",
    "activityui/_feed_item.html",
    "activityui/_timeline_entry.html",
    "activityui/_changes.html",
    "activityui/_change.html",
    "activityui/_follow_button.html",
    "activityui/_staff_row.html",
    "activityui/_divider.html",
    "activityui/_history_entry.html",
    "activityui/_history_restored.html",
)
# a feed row drawn whole ({% aui_feed_rows %}) when every row template is activityui's own
FEED_ROW = "activityui/_feed_item.html"
# a timeline row drawn whole ({% aui_timeline_rows %}), likewise
TIMELINE_ROW = "activityui/_timeline_entry.html"
# a staff console row ({% aui_staff_rows %}): the same for every viewer but for its links
STAFF_ROW = "activityui/_staff_row.html"
_OWN_TEMPLATES = Path(__file__).resolve().parent / "templates"
# ``<`` is always escaped in text, so no label or comment can forge a slot
AGO_SLOT = "<!--aui:ago:{}-->"
CSRF_SLOT = "<!--aui:csrf-->"  # the request's CSRF token (a follow button's form)
_AGO_SLOT_RE = re.compile(r"<!--aui:ago:([0-9T:.+\-]+)-->")

_versions: dict[tuple[int, ...], tuple[tuple[Any, ...], str, bool]] = {}
_generation = ""


def row_cache() -> Any:
    """The cache holding rendered rows (``ROW_CACHE`` alias), or None when it is off."""
    alias = app_settings.ROW_CACHE
    return caches[alias] if alias else None


def templates_version() -> str:
    """A digest of the row templates as the engine finds them now (name of the file each
    resolves to and its source): a host's override, or an edited template, changes it. With
    Django's cached loader the templates are the same objects on every call: one dict lookup."""
    return _row_templates()[0]


def own_row_templates() -> bool:
    """Every row template is activityui's own file (none overridden by the host): then a feed
    row is drawn and cached whole, its per-viewer facts in its key (:func:`feed_row_block`)."""
    return _row_templates()[1]


def _row_templates() -> tuple[str, bool]:
    # the engine's own Template objects (the backend wraps them afresh on every call)
    templates: list[Any] = [getattr(t, "template", t) for t in map(get_template, ROW_TEMPLATES)]
    ids = tuple(id(t) for t in templates)
    known = _versions.get(ids)
    if known is not None:
        return known[1], known[2]
    digest = hashlib.sha256(ROW_FORMAT.encode())
    own = True
    for template in templates:
        origin = getattr(template, "origin", None)
        name = origin.name if origin is not None else None
        digest.update(str(name).encode())
        digest.update(b"\0" + str(getattr(template, "source", "")).encode() + b"\0")
        own = own and name is not None and Path(str(name)).resolve().is_relative_to(_OWN_TEMPLATES)
    version = digest.hexdigest()[:16]
    if len(_versions) > 64:  # templates re-read on every request (no cached loader)
        _versions.clear()
    _versions[ids] = (tuple(templates), version, own)  # holding them keeps their ids unique
    return version, own


def forget_rows() -> None:
    """Make every row cached so far a miss in this process (new keys; the old rows expire):
    after changing something outside the key, e.g. a date format setting. The benchmarks
    use it for cold pages. The new keys are drawn at random: a count would repeat another
    process's keys in a shared cache (Redis), whose rows are then found, not rendered."""
    global _generation
    _generation = secrets.token_hex(8)


def _context_key() -> str:
    """What every row of this request shares in its key."""
    return "|".join(
        (
            _generation,
            templates_version(),
            get_language() or "",
            timezone.get_current_timezone_name(),
            get_script_prefix(),
            str(get_urlconf() or ""),
            _icons_url(),
        )
    )


def _icons_url() -> str:
    # a new static manifest renames the sprite the rows link to
    try:
        return static("activityui/icons.svg")
    except Exception:  # e.g. a manifest storage whose manifest lacks it: the rows will say so
        return ""


def row_parts(item: Any) -> tuple[Any, ...] | None:
    """What identifies the row of ``item`` beyond its context and template: the actions it
    shows and the facts of the item the row draws (None: not a row that can be cached)."""
    from activityui.days import FeedItem, FollowState
    from activityui.presenters import ActionEntry, TimelineEntry

    if isinstance(item, ActionEntry):
        return ("entry", item.id)
    if isinstance(item, FeedItem):
        return ("feed", *(e.id for e in item.entries))
    if isinstance(item, TimelineEntry):
        return ("timeline", item.entry.id, item.about_self, item.in_self, len(item.changes))
    if isinstance(item, FollowState):
        # the viewer's follow state is part of the key: viewers in the same state share it
        return ("follow", item.type_key, item.object_id, item.label, item.following)
    return None


def default_row(item: Any) -> tuple[Any, str]:
    """What activityui's own row templates key ``item``'s row by, and which template that is
    (a single feed row is ``_entry.html``, keyed by its entry)."""
    from activityui.days import FeedItem
    from activityui.presenters import TimelineEntry

    if isinstance(item, FeedItem):
        if item.is_group:
            return item, "activityui/_feed_item.html"
        return item.entry, "activityui/_entry.html"
    if isinstance(item, TimelineEntry):
        return item, "activityui/_timeline_entry.html"
    return item, ""


def row_key(item: Any, template_name: str, *, context_key: str | None = None) -> str | None:
    """The cache key of ``item``'s row as drawn by the ``{% aui_cached_row %}`` block in
    ``template_name`` (None when ``item`` is not a row that can be cached)."""
    parts = row_parts(item)
    if parts is None:
        return None
    raw = f"{context_key or _context_key()}|{template_name}|{parts!r}"
    return "activityui:row:" + hashlib.sha256(raw.encode()).hexdigest()


class RowStore:
    """The rows of one request: read with one ``get_many`` before rendering
    (:func:`prefetch_rows`), missing ones rendered and written one by one. After the first
    failure of the cache the request stops asking it (every row is then a miss)."""

    def __init__(self, cache: Any) -> None:
        self.cache = cache
        self.found: dict[str, str] = {}
        self.asked: set[str] = set()
        self.broken = False
        self.context_key = ""
        # rows rendered by a view that read its rows with prefetch_rows() are written together
        # by flush_rows() after the page (one round trip instead of one per row)
        self.batch = False
        self.pending: dict[str, str] = {}
        # keys read only if the page asks for one of them (see prefetch_rows)
        self.later: list[str] = []

    def key(self, item: Any, template_name: str) -> str | None:
        if not self.context_key:
            self.context_key = _context_key()
        return row_key(item, template_name, context_key=self.context_key)

    def _failed(self, what: str) -> None:
        if not self.broken:
            log.warning("activityui: the row cache could not be %s", what, exc_info=True)
        self.broken = True

    def prefetch(self, keys: list[str]) -> None:
        wanted = [key for key in keys if key not in self.asked]
        if not wanted or self.broken:
            return
        self.asked.update(wanted)
        try:
            self.found.update(self.cache.get_many(wanted))
        except Exception:
            self._failed("read")

    def get(self, key: str) -> str | None:
        if key in self.found:
            return self.found[key]
        if self.later and key not in self.asked:
            # the page draws its rows through their templates' own blocks after all (e.g. a
            # host's feed.html looping over the row template): read all of those at once
            later, self.later = self.later, []
            self.prefetch(later)
            if key in self.found:
                return self.found[key]
        if key in self.asked or self.broken:
            return None
        self.asked.add(key)
        try:
            value = self.cache.get(key)
        except Exception:
            self._failed("read")
            return None
        return value if isinstance(value, str) else None

    def set(self, key: str, html: str) -> None:
        self.found[key] = html
        if self.broken:
            return
        if self.batch:
            self.pending[key] = html
            return
        try:
            self.cache.set(key, html, app_settings.ROW_CACHE_TIMEOUT)
        except Exception:
            self._failed("written")

    def flush(self) -> None:
        pending, self.pending = self.pending, {}
        if not pending or self.broken:
            return
        try:
            self.cache.set_many(pending, app_settings.ROW_CACHE_TIMEOUT)
        except Exception:
            self._failed("written")


def flush_rows(request: Any) -> None:
    """Write the rows this request rendered and did not find (after the page is rendered)."""
    store: RowStore | None = getattr(request, "activityui_rows", None)
    if store is not None:
        store.flush()


def row_store(request: Any) -> RowStore | None:
    """This request's :class:`RowStore` (None when the row cache is off)."""
    try:
        cache = row_cache()
    except Exception:  # e.g. an alias missing from CACHES, or a backend that cannot load
        log.warning("activityui: the row cache is not available", exc_info=True)
        return None
    if cache is None:
        return None
    if request is None:
        return RowStore(cache)
    store: RowStore | None = getattr(request, "activityui_rows", None)
    if store is None or store.cache is not cache:
        store = RowStore(cache)
        request.activityui_rows = store
    return store


def block_name(template_name: str, extra: list[Any]) -> str:
    """What a ``{% aui_cached_row item value ... %}`` block in ``template_name`` adds to the
    key of ``item``: the template's name and the block's other values."""
    return template_name + repr(extra) if extra else template_name


def prefetch_rows(
    request: Any,
    items: Iterable[Any],
    *,
    template: str = "",
    extra: list[Any] | None = None,
    whole: str = "",
) -> None:
    """Read the cached HTML of ``items`` in one round trip: FeedItems or TimelineEntries as
    activityui's row templates key them, or items drawn by ``template`` with ``extra`` values.
    ``whole``: the block a row tag keys a whole row by (``timeline_row_block``,
    ``staff_row_block``), read instead while no row template is overridden."""
    store = row_store(request)
    if store is None:
        return
    store.batch = request is not None
    if whole and own_row_templates():
        template, extra = whole, None
    if template:
        named = [store.key(item, block_name(template, extra or [])) for item in items]
        store.prefetch([key for key in named if key])
        return
    from activityui.days import FeedItem

    keys: list[str | None] = []
    later: list[str | None] = []
    feed_rows_whole = own_row_templates()
    for item in items:
        if feed_rows_whole and isinstance(item, FeedItem):  # {% aui_feed_rows %}: the row whole
            keys.append(store.key(item, feed_row_block(item)))
            parts = later
        else:
            parts = keys
        parts.append(store.key(*default_row(item)))
        follow = _follow_of(item)
        if follow is not None:  # a single row's follow button: its own cached block
            parts.append(store.key(follow, FOLLOW_BLOCK))
    store.prefetch([key for key in keys if key])
    store.later = [key for key in later if key]


def feed_row_block(item: Any, next_url: str = "") -> str:
    """What a feed row drawn whole (``{% aui_feed_rows %}``) adds to its key beyond its
    actions: every per-viewer fact ``_feed_item.html`` draws ("new", the divider above it,
    the follow button's state) and the ``next`` its follow form carries."""
    return block_name(FEED_ROW + "#whole", [item.new, item.divider_above, item.follow, next_url])


def timeline_row_block(tid: Any, history: Any, embedded: Any) -> str:
    """What a timeline row drawn whole (``{% aui_timeline_rows %}``) adds to its key beyond
    its entry: the timeline's id on the page, whether it is embedded (its links push the URL
    or not) and the viewer's history links (their URLs, the fields the viewer may restore)."""
    links: list[Any] = []
    if isinstance(history, dict) and history:
        links = [
            history.get("as_of_url"),
            history.get("compare_url"),
            history.get("restore_url"),
            sorted(history.get("restorable") or ()),
        ]
    return block_name(TIMELINE_ROW + "#whole", [str(tid or ""), bool(embedded), links])


def staff_row_block(filter_query: Any) -> str:
    """What a staff row drawn whole (``{% aui_staff_rows %}``) adds to its key beyond its
    entry: the filters its link carries back."""
    return block_name(STAFF_ROW + "#whole", [str(filter_query or "")])


# what ``_entry.html``'s ``{% aui_cached_row follow next %}`` adds to a follow button's key on
# a feed page (whose context has no ``next``): read in the page's one ``get_many`` with the rows
FOLLOW_BLOCK = block_name("activityui/_entry.html", [""])


def _follow_of(item: Any) -> Any:
    from activityui.days import FeedItem

    if isinstance(item, FeedItem) and not item.is_group:
        return item.follow
    return None


def ago_slot(value: dt.datetime) -> str:
    return AGO_SLOT.format(value.astimezone(dt.UTC).isoformat())


def slot_csrf(html: str, token: Any) -> str:
    """``html`` with the CSRF token it was rendered with as a slot (before it is cached)."""
    if 'name="csrfmiddlewaretoken"' not in html:
        return html
    value = str(token or "")
    return html.replace(f'value="{value}"', f'value="{CSRF_SLOT}"') if len(value) > 8 else html


def fill_slots(html: str, csrf_token: Any = None) -> str:
    """The per-request parts of a rendered row: each relative time as of now, the CSRF token
    of this request."""
    if CSRF_SLOT in html:
        html = html.replace(CSRF_SLOT, conditional_escape(str(csrf_token or "")))
    if "<!--aui:ago:" not in html:
        return html
    from activityui.templatetags.activityui import aui_ago

    return _AGO_SLOT_RE.sub(
        lambda m: conditional_escape(aui_ago(dt.datetime.fromisoformat(m.group(1)))), html
    )
