"""The demo's authentication backend: Django's ModelBackend with permissions in one query."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

from demo_site.demo.auth import ModelBackendOneQuery
from tests.factories import UserFactory

STAFF = "activityui.view_all_activity"


def _permission(codename: str) -> Permission:
    return Permission.objects.get(codename=codename)


def _fresh(user):
    return type(user).objects.get(pk=user.pk)  # no permissions remembered on it yet


def test_own_and_group_permissions_in_one_query(db, django_assert_num_queries):
    user = UserFactory()
    user.user_permissions.add(_permission("view_all_activity"))
    group = Group.objects.create(name="editors")
    group.permissions.add(_permission("change_readmarker"))
    user.groups.add(group)
    user = _fresh(user)
    with django_assert_num_queries(1):
        assert user.has_perm(STAFF)
        assert user.has_perm("activityui.change_readmarker")
        assert not user.has_perm("auth.delete_user")
    # the same answer as Django's own ModelBackend
    assert user.get_all_permissions() == {STAFF, "activityui.change_readmarker"}


def test_permissions_only_from_a_group(db):
    user = UserFactory()
    group = Group.objects.create(name="support")
    group.permissions.add(_permission("view_all_activity"))
    user.groups.add(group)
    assert _fresh(user).has_perm(STAFF)
    assert not _fresh(UserFactory()).has_perm(STAFF)


def test_superuser_has_every_permission(db):
    user = UserFactory(is_superuser=True)
    assert ModelBackendOneQuery().get_all_permissions(user) == {
        f"{p.content_type.app_label}.{p.codename}" for p in Permission.objects.all()
    }


def test_inactive_user_and_object_permissions_are_none(db):
    user = UserFactory(is_active=False)
    user.user_permissions.add(_permission("view_all_activity"))
    backend = ModelBackendOneQuery()
    assert backend.get_all_permissions(_fresh(user)) == set()
    active = UserFactory()
    active.user_permissions.add(_permission("view_all_activity"))
    assert backend.get_all_permissions(_fresh(active), obj=active) == set()
    assert backend.get_all_permissions(_fresh(active)) == {STAFF}
