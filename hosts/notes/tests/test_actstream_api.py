"""actstream's public API behaves the same with activityui installed, whatever the language:
activityui's catalog must not translate actstream's own verbs (activityui's phrases carry a
message context), so what is stored never depends on the active language.

Order: actstream's streams order by timestamp only (its Action.Meta), so actions that share a
timestamp come in the database's order, with or without activityui (activityui does not change
actstream's ordering; its own lists break ties by id). Those are compared as sets."""

from __future__ import annotations

import datetime as dt

import pytest
from actstream import action
from actstream.actions import follow, unfollow
from actstream.models import Action, Follow, followers, following
from actstream.registry import register, unregister
from django.contrib.auth.models import Group, User
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

T0 = timezone.make_aware(dt.datetime(2026, 1, 5, 9, 0))


@pytest.fixture
def registered(db):
    register(User, Group)
    yield
    unregister(User, Group)


def label(obj):
    return "" if obj is None else f"{type(obj).__name__}:{obj}"


def run_the_api(language):
    """Drive actstream's public API with ``language`` active; return what it stored and read."""
    Action.objects.all().delete()
    Follow.objects.all().delete()
    ann = User.objects.get(username="ann")
    ben = User.objects.get(username="ben")
    group = Group.objects.get(name="Research")
    with translation.override(language):
        follow(ann, group, timestamp=T0)
        follow(ann, ben, actor_only=False, timestamp=T0 + dt.timedelta(seconds=1))
        follow(ben, ann, timestamp=T0 + dt.timedelta(seconds=1))  # same time as the previous
        action.send(ann, verb="joined", target=group, timestamp=T0 + dt.timedelta(seconds=2))
        action.send(
            ben,
            verb=gettext_lazy("created"),
            target=group,
            timestamp=T0 + dt.timedelta(seconds=3),
        )
        action.send(
            ben, verb=gettext_lazy("started following"), timestamp=T0 + dt.timedelta(seconds=4)
        )
        unfollow(ben, ann, send_action=True)
        stored = sorted(
            (label(a.actor), a.verb, label(a.target), a.public) for a in Action.objects.all()
        )

        def stream(queryset):
            rows = [(a.timestamp, (label(a.actor), a.verb, label(a.target))) for a in queryset]
            by_time = {}
            for when, row in rows:
                by_time.setdefault(when, set()).add(row)
            return [by_time[when] for when in dict.fromkeys(when for when, _row in rows)]

        read = {
            "actor": stream(Action.objects.actor(ann)),
            "target": stream(Action.objects.target(group)),
            "any": stream(Action.objects.any(ben)),
            "user": stream(Action.objects.user(ann)),
            "user+own": stream(Action.objects.user(ann, with_user_activity=True)),
            "followers": sorted(u.username for u in followers(group)),
            "following": sorted(label(o) for o in following(ann)),
            "following users": sorted(label(o) for o in following(ann, User)),
            "follows": sorted(
                (f.user.username, label(f.follow_object), f.actor_only)
                for f in Follow.objects.all()
            ),
        }
    return stored, read


def test_actstream_stores_and_reads_the_same_in_french_and_in_english(world, registered):
    english = run_the_api("en")
    french = run_the_api("fr")
    assert french == english


def test_actstream_stores_its_own_verbs_untranslated_in_french(world, registered):
    stored, _read = run_the_api("fr")
    verbs = sorted({verb for _actor, verb, _target, _public in stored})
    assert verbs == ["created", "joined", "started following", "stopped following"]


def test_activityui_phrases_still_read_in_french(world):
    from activityui.verbs import get_verb

    with translation.override("fr"):
        assert str(get_verb("started following").phrase) == "suit désormais"
        assert str(get_verb("created").phrase) == "a créé"
        # the same words without activityui's context are not activityui's to translate
        assert translation.gettext("started following") == "started following"
        assert translation.gettext("created") == "created"


def test_activityui_stores_canonical_verbs_in_french(world):
    import activityui

    with translation.override("fr"):
        activityui.record(world["ann"], gettext_lazy("created"), world["first"])
        with activityui.acting_as(world["ann"]):
            world["first"].title = "Premiers résultats"
            world["first"].save()
    verbs = list(Action.objects.order_by("-id").values_list("verb", flat=True)[:2])
    assert verbs == ["updated", "created"]
