"""Loudness against pyloudnorm (BS.1770 in numpy, written by no one here): tones and noise at
several levels within 0.1 LU, an album gated as one programme, the true peak, ReplayGain."""

import math

import numpy as np
import pyloudnorm
import pytest
import scipy.signal
import soundfile

from catalog.renditions import ReplayGain, gain_db, peak_amplitude
from processing.errors import ProcessingFailed
from processing.loudness import NO_TRACKS, measure_album_loudness, measure_loudness
from tests.audio_signals import RATE, decoded, noise, tone

TOLERANCE_LU = 0.1


def oracle(samples: np.ndarray) -> float:
    return pyloudnorm.Meter(RATE).integrated_loudness(samples)


def decibels(amplitude: float) -> float:
    return 20 * math.log10(amplitude)


@pytest.mark.parametrize(
    ("name", "samples"),
    [
        ("tone-loud", tone(4, amplitude=0.8)),
        ("tone-mid", tone(4, amplitude=0.1)),
        ("tone-quiet", tone(4, amplitude=0.005)),
        ("tone-mono", tone(4, amplitude=0.3, frequency=440, channels=1)),
        ("noise-loud", noise(4, rms=0.25)),
        ("noise-quiet", noise(4, rms=0.01)),
    ],
)
def test_integrated_loudness_matches_pyloudnorm(write_wav, name, samples):
    measured = measure_loudness(write_wav(name, samples))

    assert measured.integrated_lufs == pytest.approx(oracle(samples), abs=TOLERANCE_LU)


@pytest.mark.parametrize("extension", ["flac", "mp3", "ogg", "m4a"])
def test_loudness_of_an_encoded_file_matches_pyloudnorm_on_its_decoded_samples(
    write_wav, encode, extension
):
    path = encode(write_wav("noise", noise(4, rms=0.1)), extension)

    measured = measure_loudness(path)

    # The oracle reads what a decoder makes of the file (an encoder moves the level a little).
    assert measured.integrated_lufs == pytest.approx(oracle(decoded(path)), abs=TOLERANCE_LU)


def test_a_long_album_is_measured_within_the_memory_limit(write_wav, encode, settings):
    """One input per track, each with its threads: at glibc's default thread stacks and
    malloc arenas, the address space of an album of 10 tracks passed the 1 GB cap."""
    settings.FFMPEG_MEMORY_LIMIT_MB = 1024
    tracks = [tone(1, amplitude=0.05 + 0.01 * (n % 5)) for n in range(60)]
    paths = [write_wav(f"track-{n}", samples) for n, samples in enumerate(tracks)]
    paths[1::3] = [encode(path, "mp3") for path in paths[1::3]]  # several decoders, not one

    album = measure_album_loudness(paths)

    expected = oracle(np.concatenate([decoded(path) for path in paths]))
    assert album.integrated_lufs == pytest.approx(expected, abs=TOLERANCE_LU)


def test_an_album_is_gated_as_one_programme_not_averaged(write_wav, encode):
    loud, quiet = tone(3, amplitude=0.5), noise(3, rms=0.003)
    first = write_wav("first", loud)
    second = encode(write_wav("second", quiet), "flac")
    tracks = [measure_loudness(first), measure_loudness(second)]

    album = measure_album_loudness([first, second])

    expected = oracle(np.concatenate([loud, quiet]))
    assert album.integrated_lufs == pytest.approx(expected, abs=TOLERANCE_LU)
    average = sum(track.integrated_lufs for track in tracks) / 2
    assert abs(album.integrated_lufs - average) > 5  # gating over all blocks, not a mean
    assert album.true_peak_dbtp == max(track.true_peak_dbtp for track in tracks)


def test_the_true_peak_is_at_least_the_sample_peak_and_finds_peaks_between_samples(write_wav):
    # A sine at a quarter of the rate, 45 degrees off: every sample is at 0.707 of the crest.
    time = np.arange(4 * RATE) / RATE
    between = 0.5 * np.sin(2 * np.pi * (RATE / 4) * time + np.pi / 4)
    samples = np.repeat(between[:, None], 2, axis=1)
    sample_peak = decibels(float(np.max(np.abs(samples))))

    measured = measure_loudness(write_wav("between", samples))

    assert measured.true_peak_dbtp >= sample_peak - 0.05  # printed to 0.1 dB
    # A 4x oversampling meter may over-read near a quarter of the rate (ffmpeg: +0.6 dB).
    assert decibels(0.5) - 0.3 <= measured.true_peak_dbtp <= decibels(0.5) + 0.7
    assert measured.true_peak_dbtp - sample_peak > 2.5  # about 3 dB above the samples


@pytest.mark.parametrize("amplitude", [0.9, 0.25, 0.02])
def test_true_peak_of_a_tone_is_its_amplitude(write_wav, amplitude):
    measured = measure_loudness(write_wav("tone", tone(3, amplitude=amplitude)))

    assert measured.true_peak_dbtp >= decibels(amplitude) - 0.05
    assert measured.true_peak == pytest.approx(amplitude, rel=0.03)


def test_replay_gain_2_values_follow_from_the_measurements(write_wav):
    track_path = write_wav("track", noise(3, rms=0.2))
    other_path = write_wav("other", tone(3, amplitude=0.05))
    track = measure_loudness(track_path)
    album = measure_album_loudness([track_path, other_path])

    # As the pipeline stores them and the catalog serves them (catalog.renditions).
    gains = ReplayGain(
        track_gain=gain_db(track.integrated_lufs),
        track_peak=peak_amplitude(track.true_peak_dbtp),
        album_gain=gain_db(album.integrated_lufs),
        album_peak=peak_amplitude(album.true_peak_dbtp),
    )

    assert gains.track_gain == pytest.approx(-18 - track.integrated_lufs, abs=0.01)
    assert gains.album_gain == pytest.approx(-18 - album.integrated_lufs, abs=0.01)
    assert gains.track_gain < 0  # loud noise is turned down
    assert gains.track_peak == pytest.approx(10 ** (track.true_peak_dbtp / 20), rel=1e-4)
    assert gains.album_peak >= gains.track_peak


def test_silence_has_no_loudness_and_no_gain(write_wav):
    measured = measure_loudness(write_wav("silence", np.zeros((2 * RATE, 2))))

    assert measured.integrated_lufs is None
    assert measured.gain_db is None
    assert measured.true_peak == 0.0


def test_an_album_of_no_tracks_is_refused():
    with pytest.raises(ProcessingFailed) as failure:
        measure_album_loudness([])

    assert failure.value.reason == NO_TRACKS


def test_an_album_of_tracks_at_different_sample_rates(write_wav, tmp_path):
    loud, quiet = tone(3, amplitude=0.5), noise(3, rms=0.05)
    first = write_wav("first", loud)
    second = tmp_path / "second-44k.wav"
    soundfile.write(second, scipy.signal.resample_poly(quiet, 147, 160, axis=0), 44100)

    album = measure_album_loudness([first, second])

    expected = oracle(np.concatenate([loud, quiet]))
    assert album.integrated_lufs == pytest.approx(expected, abs=TOLERANCE_LU)
