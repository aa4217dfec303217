"""Fixtures of the catalog's tests."""

from pathlib import Path

import pytest

from tests.media_samples import png_bytes, wav_bytes


@pytest.fixture
def songs_in_storage(settings) -> list[str]:
    """Audio copied into media/songs/ in bulk, as an operator does before importing."""
    folder = Path(settings.MEDIA_ROOT) / "songs"
    folder.mkdir(parents=True)
    names = []
    for index in range(3):
        (folder / f"track{index}.wav").write_bytes(wav_bytes(seconds=2 + index))
        names.append(f"track{index}.wav")
    (folder / "cover.png").write_bytes(png_bytes())
    return names
