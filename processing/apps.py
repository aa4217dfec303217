from django.apps import AppConfig


class ProcessingConfig(AppConfig):
    """Audio processing over local files: renditions, loudness, waveforms (docs/PROCESSING.md).

    Pure functions for now: no models, no jobs, no routes."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "processing"
