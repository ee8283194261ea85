"""The verb registry: how each stored verb reads and which icon it gets."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

# activityui's phrases of the verbs it knows carry this message context: without it, its
# catalog would also translate a plain gettext("started following") of anyone else, and
# actstream's follow() would store "suit désormais" with French active (verbs are stored as
# they are given). Hosts that register phrases may use the same context, or none.
VERB_CONTEXT = "activity verb"  # written out in each call below: xgettext reads literals


@dataclass(frozen=True)
class Verb:
    key: str
    phrase: str | Promise  # "created", "commented on": shown between actor and object
    icon: str = "dot"  # id of a symbol in static/activityui/icons.svg


_registry: dict[str, Verb] = {}


def register_verb(key: str, phrase: str | Promise, *, icon: str = "dot") -> Verb:
    """Register (or replace) how ``key`` is displayed. Verbs are stored untranslated.

    ``phrase`` is shown between the actor and the object ("commented on"): pass a lazy
    translation (``gettext_lazy``) so it follows the reader's language. ``icon`` names a symbol
    of ``static/activityui/icons.svg``.
    """
    if not isinstance(key, str) or not key.strip() or len(key) > 255:
        raise ValueError(f"A verb key is a non-empty text of at most 255 characters: {key!r}")
    verb = Verb(key=key, phrase=phrase, icon=icon)
    _registry[key] = verb
    return verb


def get_verb(key: str) -> Verb:
    """The registered verb, or a plain one that shows the stored text as it is."""
    return _registry.get(key) or Verb(key=key, phrase=key)


def registered_verbs() -> list[Verb]:
    return sorted(_registry.values(), key=lambda v: v.key)


register_verb("created", pgettext_lazy("activity verb", "created"), icon="plus")
register_verb("updated", pgettext_lazy("activity verb", "updated"), icon="pencil")
register_verb("deleted", pgettext_lazy("activity verb", "deleted"), icon="trash")
register_verb("commented", pgettext_lazy("activity verb", "commented on"), icon="comment")
register_verb("joined", pgettext_lazy("activity verb", "joined"), icon="user-plus")
register_verb("left", pgettext_lazy("activity verb", "left"), icon="user-minus")
register_verb("exported", pgettext_lazy("activity verb", "exported"), icon="download")
register_verb("signed in", pgettext_lazy("activity verb", "signed in"), icon="login")
register_verb("started following", pgettext_lazy("activity verb", "started following"), icon="eye")
register_verb("restored", pgettext_lazy("activity verb", "restored"), icon="undo")
register_verb("moved", pgettext_lazy("activity verb", "moved"), icon="arrow-right")
