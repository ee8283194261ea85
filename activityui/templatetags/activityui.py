"""Template tags: ``{% load activityui %}``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from django import template
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.timesince import timesince
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from activityui.ids import id_of
from activityui.keys import type_key
from activityui.links import timeline_url
from activityui.rowcache import (
    FEED_ROW,
    STAFF_ROW,
    TIMELINE_ROW,
    ago_slot,
    block_name,
    feed_row_block,
    fill_slots,
    own_row_templates,
    row_store,
    slot_csrf,
    staff_row_block,
    timeline_row_block,
)

register = template.Library()


@register.simple_tag
def aui_query(params: Any, **changes: Any) -> str:
    """The current query string with ``changes`` applied (None removes a key)."""
    query = params.copy()
    for key, value in changes.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag
def aui_theme() -> SafeString:
    """`` data-aui-theme="…"`` for activityui's elements when ``THEME`` is "light" or "dark"
    (nothing for "auto": the OS decides, or a ``data-aui-theme`` the host put on an ancestor)."""
    from activityui.conf import app_settings

    theme = app_settings.THEME
    if theme in ("light", "dark"):
        return format_html(' data-aui-theme="{}"', theme)
    return SafeString("")


@register.simple_tag
def aui_htmx_config() -> SafeString:
    """``<meta name="htmx-config">`` from ``ACTIVITYUI["HTMX_CONFIG"]`` (nothing when None)."""
    import json

    from activityui.conf import app_settings

    config = app_settings.HTMX_CONFIG
    if config is None:
        return SafeString("")
    return format_html('<meta name="htmx-config" content="{}">', json.dumps(config))


# --- object timeline ---


@register.simple_tag(takes_context=True)
def object_timeline(
    context: template.Context, obj: models.Model, *, sign_in: bool = False
) -> SafeString:
    """``{% object_timeline obj %}``: a placeholder that htmx fills with ``obj``'s history
    once the page has loaded (a plain link without JavaScript).

    Nothing at all for a visitor who may not see ``obj`` (anonymous ones included): no loader,
    no request, no link. ``{% object_timeline obj sign_in=True %}`` shows anonymous visitors a
    sign-in link instead. Each timeline of a page gets ids of its own, so any number of them
    work side by side. Costs the host page one query (may the user see ``obj``?).
    """
    from django.conf import settings
    from django.contrib.auth.views import redirect_to_login

    from activityui.timelines import DEFAULT_ID, next_timeline_id
    from activityui.visibility import can_see, can_view_all

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        if not sign_in or request is None:
            return SafeString("")
        login = redirect_to_login(request.get_full_path(), settings.LOGIN_URL)["Location"]
        return render_to_string(
            "activityui/timeline.html#timeline-sign-in", {"sign_in_url": login}, request=request
        )
    if not can_see(user, obj) and not can_view_all(user):
        return SafeString("")
    key = type_key(ContentType.objects.get_for_model(obj))
    url = timeline_url(key, id_of(obj))
    tid = next_timeline_id(request)
    return render_to_string(
        "activityui/timeline.html#timeline-placeholder",
        {"url": f"{url}?tl={tid}" if url and tid != DEFAULT_ID else url, "tid": tid},
        request=request,
    )


_AGO_BASE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_ago_words: dict[tuple[str, int, int], str] = {}


@register.filter
def aui_ago(value: dt.datetime | None) -> str:
    """A calm relative time: "seconds ago", "5 minutes ago", "3 days ago"."""
    if not value:
        return ""
    seconds = (timezone.now() - value).total_seconds()
    if seconds < 60:
        return _("seconds ago")
    if seconds < 86400 and isinstance(value, dt.datetime) and value.utcoffset() == dt.timedelta(0):
        # under a day (most rows of a feed) the words depend only on the whole hours, or else
        # the whole minutes: worded once per language by Django's timesince() and kept
        unit = 3600 if seconds >= 3600 else 60
        key = (get_language() or "", unit, int(seconds // unit))
        words = _ago_words.get(key)
        if words is None:
            later = _AGO_BASE + dt.timedelta(seconds=key[1] * key[2])
            words = _("%(time)s ago") % {"time": timesince(_AGO_BASE, later, depth=1)}
            if len(_ago_words) > 2000:
                _ago_words.clear()
            _ago_words[key] = words
        return words
    return _("%(time)s ago") % {"time": timesince(value, depth=1)}


# --- entries: the pieces every row repeats, in Python (a 25-row page renders ~75 of them) ---

LABEL_CHARS = 120


@register.filter
def aui_ref(ref: Any) -> SafeString:
    """``{{ entry.actor|aui_ref }}``: an object as a link to its page (a plain span when it
    has none, e.g. deleted), its label cut to 120 characters."""
    if not ref:
        return SafeString("")
    label = Truncator(ref.label).chars(LABEL_CHARS)
    if ref.url:
        return format_html('<a class="aui-object" href="{}">{}</a>', ref.url, label)
    return format_html('<span class="aui-object">{}</span>', label)


@register.filter
def aui_staff_ref(ref: Any) -> SafeString:
    """``{{ entry.target|aui_staff_ref }}``: a staff table cell's object, label and type#id
    (the id in full, wrapped by the stylesheet: staff copy it into filters and tickets)."""
    if not ref:
        return SafeString('<span class="aui-muted">—</span>')
    return format_html(
        '<span class="aui-staff__ref">{}</span> '
        '<code class="aui-staff__id" title="{}">{}#{}</code>',
        Truncator(ref.label).chars(48),
        ref.type_key,
        ref.type_name,
        ref.object_id,
    )


@register.simple_tag(takes_context=True)
def aui_time(context: template.Context, value: dt.datetime) -> SafeString:
    """``{% aui_time entry.timestamp %}``: a <time> with the relative time as text, the
    instant in UTC as ``datetime`` and the local date and time as its title. Inside an
    ``{% aui_cached_row %}`` block the text is a slot, filled on every request."""
    local = timezone.localtime(value)
    instant = value.astimezone(dt.UTC)
    return format_html(
        '<time class="aui-time" datetime="{}" title="{} ({})">{}</time>',
        instant.isoformat(),  # the date filter's "c"
        formats.date_format(local, "DATETIME_FORMAT"),
        local.tzname() or "",  # the date filter's "e"
        SafeString(ago_slot(instant)) if context.get("aui_row_slots") else aui_ago(value),
    )


class CachedRowNode(template.Node):
    def __init__(
        self,
        nodelist: template.NodeList,
        item: template.base.FilterExpression,
        extra: list[template.base.FilterExpression],
    ) -> None:
        self.nodelist = nodelist
        self.item = item
        self.extra = extra

    def render(self, context: template.Context) -> SafeString:
        if context.get("aui_row_slots"):  # inside a row drawn and cached whole: part of it
            return SafeString(self.nodelist.render(context))
        item = self.item.resolve(context)
        token = context.get("csrf_token")
        store = row_store(context.get("request"))
        key = None
        if store is not None:
            extra = [value.resolve(context) for value in self.extra]
            key = store.key(item, block_name(str(self.origin.template_name or ""), extra))
        if store is None or key is None:
            return SafeString(fill_slots(self._render(context), token))
        html = store.get(key)
        if html is None:
            html = slot_csrf(self._render(context), token)
            store.set(key, html)
        return SafeString(fill_slots(html, token))

    def _render(self, context: template.Context) -> str:
        with context.push(aui_row_slots=True):
            return str(self.nodelist.render(context))


@register.tag("aui_cached_row")
def aui_cached_row(parser: template.base.Parser, token: template.base.Token) -> CachedRowNode:
    """``{% aui_cached_row item [value ...] %}…{% endaui_cached_row %}``: the part of a row that
    is the same for every viewer, rendered once and kept in the row cache (activityui.rowcache),
    keyed by ``item`` (an ActionEntry, FeedItem, TimelineEntry or FollowState) and the optional
    values. Nothing per viewer (follow state, "new", links shown to some) may go inside unless
    it is part of the key (a FollowState's ``following``)."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError(f"{bits[0]} takes the row's item (and key values)")
    nodelist = parser.parse(("endaui_cached_row",))
    parser.delete_first_token()
    extra = [parser.compile_filter(bit) for bit in bits[2:]]
    return CachedRowNode(nodelist, parser.compile_filter(bits[1]), extra)


class RowsNode(template.Node):
    """Rows drawn by one template as ``{% include %}`` would, each kept whole in the row cache
    while no row template is overridden (``block(item, context)`` names what the row's key
    holds beyond its actions: every per-viewer fact it draws)."""

    template_name = ""
    item_name = "item"  # the name the row template knows its item by

    def __init__(self, items: template.base.FilterExpression) -> None:
        self.items = items

    def block(self, item: Any, context: template.Context) -> str:
        raise NotImplementedError

    def render(self, context: template.Context) -> SafeString:
        items = self.items.resolve(context)
        assert context.template is not None  # (a node renders inside a template)
        row = context.template.engine.get_template(self.template_name)
        store = row_store(context.get("request"))
        token = context.get("csrf_token")
        whole = store is not None and own_row_templates()
        html: list[str] = []
        for item in items:
            with context.push({self.item_name: item}):
                if store is None or not whole:  # the template's own blocks cache its parts
                    html.append(row.render(context))
                    continue
                key = store.key(item, self.block(item, context))
                cached = store.get(key) if key is not None else None
                if cached is None:
                    with context.push(aui_row_slots=True):
                        cached = slot_csrf(row.render(context), token)
                    if key is not None:
                        store.set(key, cached)
                html.append(fill_slots(cached, token))
        return SafeString("".join(html))


class FeedRowsNode(RowsNode):
    template_name = FEED_ROW

    def block(self, item: Any, context: template.Context) -> str:
        return feed_row_block(item, context.get("next") or "")


class TimelineRowsNode(RowsNode):
    template_name = TIMELINE_ROW

    def block(self, item: Any, context: template.Context) -> str:
        return timeline_row_block(
            context.get("tid"), context.get("history"), context.get("embedded")
        )


def _rows_tag[N: RowsNode](
    parser: template.base.Parser, token: template.base.Token, node: type[N]
) -> N:
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError(f"{bits[0]} takes the rows to draw")
    return node(parser.compile_filter(bits[1]))


class StaffRowsNode(RowsNode):
    template_name = STAFF_ROW
    item_name = "entry"

    def block(self, item: Any, context: template.Context) -> str:
        return staff_row_block(context.get("filter_query"))


@register.tag("aui_staff_rows")
def aui_staff_rows(parser: template.base.Parser, token: template.base.Token) -> StaffRowsNode:
    """``{% aui_staff_rows entries %}``: the staff console's rows (ActionEntries), each drawn
    by ``activityui/_staff_row.html`` as ``{% include %}`` would, kept whole in the row cache
    while no row template is overridden (the filters its link carries in the key)."""
    return _rows_tag(parser, token, StaffRowsNode)


@register.tag("aui_timeline_rows")
def aui_timeline_rows(parser: template.base.Parser, token: template.base.Token) -> TimelineRowsNode:
    """``{% aui_timeline_rows day.entries %}``: the timeline's rows (TimelineEntries), each
    drawn by ``activityui/_timeline_entry.html`` as ``{% include %}`` would; kept whole in the
    row cache like the feed's (the timeline's id, whether it is embedded and the viewer's
    history links in the key)."""
    return _rows_tag(parser, token, TimelineRowsNode)


@register.tag("aui_feed_rows")
def aui_feed_rows(parser: template.base.Parser, token: template.base.Token) -> FeedRowsNode:
    """``{% aui_feed_rows day.items %}``: the feed rows (FeedItems), each drawn by
    ``activityui/_feed_item.html`` as ``{% include %}`` would. When no row template is
    overridden, each row is kept whole in the row cache, its per-viewer facts ("new", the
    divider, the follow state) part of its key, so a warm row is one string; an overridden row
    template is drawn on every request around its own ``{% aui_cached_row %}`` blocks."""
    return _rows_tag(parser, token, FeedRowsNode)


# --- feed ---


@register.simple_tag(takes_context=True)
def aui_unread_count(context: template.Context, feed: str) -> str:
    """``{% aui_unread_count "team" as n %}``: how many actions of ``feed`` are new since the
    user's read marker, "" for none, capped ("20+"). The marker and the site's signature (read
    once per request), the count remembered under them (activityui.polls); none on the feed's
    own first page when the page decides it (the view reads it off the page)."""
    from activityui.polls import unread_count_remembered
    from activityui.presenters import UNREAD_CAP, count_label

    request = context.get("request")
    # the feed's first page is on show: its view put how to read the count off the page in
    # the context (called only here, so a page without a badge costs no query)
    on_page: Mapping[str, Callable[[], int]] = context.get("activityui_unread") or {}
    if feed in on_page:
        return count_label(on_page[feed](), UNREAD_CAP)
    user = getattr(request, "user", None)
    unread = unread_count_remembered(request=request, user=user, feed=feed, limit=UNREAD_CAP)
    return count_label(unread, UNREAD_CAP)


@register.simple_tag(takes_context=True)
def aui_unread_badge(context: template.Context, feed: str) -> SafeString:
    """``{% aui_unread_badge "team" %}``: the count as a badge with a stable id, which
    activityui.js updates from the ``aui:unread`` event the read marker's POST sends."""
    return render_to_string(
        "activityui/_unread_badge.html",
        {"feed_name": feed, "count": aui_unread_count(context, feed)},
    )


@register.simple_tag(takes_context=True)
def aui_feed_tabs(context: template.Context) -> list[dict[str, Any]]:
    """``{% aui_feed_tabs as tabs %}``: the registered feeds shown as tabs, in order, for a
    host's navigation: each has ``name``, ``label``, ``title``, ``url`` and ``current`` (the
    request is that feed's page). No query."""
    from activityui.feeds import feed_tabs

    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    current = None
    if match is not None and "activityui" in match.namespaces:
        from activityui.conf import app_settings

        if match.url_name == "feed":
            current = app_settings.DEFAULT_FEED
        elif match.url_name in ("feed_named", "following"):
            current = match.kwargs.get("feed_name") or "following"
    return [
        {
            "name": feed.name,
            "label": feed.label,
            "title": feed.title,
            "url": feed.url,
            "current": feed.name == current,
        }
        for feed in feed_tabs()
    ]


@register.simple_tag(takes_context=True)
def aui_follow_button(context: template.Context, obj: models.Model) -> SafeString:
    """``{% aui_follow_button obj %}``: the follow/unfollow toggle for ``obj`` (one query)."""
    from activityui.days import FollowState
    from activityui.follows import is_following

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return SafeString("")
    key = type_key(ContentType.objects.get_for_model(obj))
    state = FollowState(key, id_of(obj), str(obj), is_following(user=user, obj=obj))
    return render_to_string(
        "activityui/_follow_button.html",
        {"follow": state, "next": request.get_full_path() if request is not None else ""},
        request=request,
    )
