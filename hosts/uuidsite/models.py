"""Notebooks: a small SaaS whose keys are UUIDs, integers of both sizes and quoted strings."""

from __future__ import annotations

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.urls import reverse


class MemberManager(BaseUserManager["Member"]):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        member = self.model(email=self.normalize_email(email), **extra)
        member.set_password(password)
        member.save(using=self._db)
        return member

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class Member(AbstractBaseUser, PermissionsMixin):
    """A person: UUID key, email login, one display name, no username."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("email address", unique=True)
    display_name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)

    objects = MemberManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    def __str__(self) -> str:
        return self.display_name or self.email

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name.split(" ")[0]


class Bot(models.Model):
    """What acts outside a request (imports, scheduled jobs): not a login."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.name


class Workspace(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(Member, related_name="workspaces", blank=True)

    def __str__(self) -> str:
        return self.name


class Notebook(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="notebooks")
    title = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.title


class Tag(models.Model):
    id = models.AutoField(primary_key=True)  # integer keys, the 32-bit kind
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.name


class Note(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    notebook = models.ForeignKey(Notebook, on_delete=models.CASCADE, related_name="notes")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="notes")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("note", args=[self.pk])


class Comment(models.Model):
    """BigAutoField keys (the app's default_auto_field)."""

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="comments")
    text = models.TextField()

    def __str__(self) -> str:
        return self.text[:40]


class Page(models.Model):
    """A wiki page keyed by its title: a string key with spaces, "?", "#", "&", "%" and
    accents, all of which need quoting in a URL."""

    key = models.CharField(primary_key=True, max_length=120)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="pages")
    text = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.key
