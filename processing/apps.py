from django.apps import AppConfig


class ProcessingConfig(AppConfig):
    """The media pipeline (docs/PROCESSING.md): renditions, loudness and waveforms of every new
    or replaced audio, made by background jobs (processing/tasks.py)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "processing"

    def ready(self) -> None:
        from catalog.signals import album_tracks_changed, audio_changed
        from processing import tasks

        audio_changed.connect(tasks.on_audio_changed, dispatch_uid="pipeline-song")
        album_tracks_changed.connect(tasks.on_album_tracks_changed, dispatch_uid="pipeline-album")
