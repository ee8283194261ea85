from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "hosts.notes.notes"
    label = "notes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from hosts.notes.notes import activity  # noqa: F401 (registers what activityui needs)
