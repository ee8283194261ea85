from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "demo_site.demo"
    label = "demo"
    verbose_name = "Teamboard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from demo_site.demo import activity  # noqa: F401  (tracking, feeds, visibility)
