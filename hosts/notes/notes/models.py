from django.contrib.auth.models import Group
from django.db import models
from django.urls import reverse


class Notebook(models.Model):
    name = models.CharField(max_length=100)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="notebooks")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("notebook_detail", args=[self.pk])


class Note(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    notebook = models.ForeignKey(Notebook, on_delete=models.CASCADE, related_name="notes")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("note_detail", args=[self.pk])
