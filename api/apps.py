from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The integrators' edge: the REST API ``/api/v1/`` and its OpenAPI schema."""

    name = "api"
    default_auto_field = "django.db.models.BigAutoField"
