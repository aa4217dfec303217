"""Loudness per EBU R128 / ITU-R BS.1770, measured by ffmpeg's ebur128 filter (the ReplayGain
2.0 values that follow from it are the catalog's: catalog.renditions).

A track is measured alone; an album is measured as one programme: its tracks are joined end to
end (ffmpeg's concat filter) in front of one ebur128, so the gating runs over every track's
blocks together, as BS.1770 defines a programme. It is not an average of the tracks' figures.

The integrated loudness is read from the filter's frame metadata (three decimals; the printed
summary has one), the true peak from its summary (0.1 dB).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from catalog.renditions import gain_db, peak_amplitude
from processing.errors import ProcessingFailed
from processing.ffmpeg import run_ffmpeg
from processing.source import check_decoded_length, inspect_source

# BS.1770's absolute gate: ebur128 answers this when no block rose above it (silence).
ABSOLUTE_GATE_LUFS = -70.0

NO_TRACKS = "An album needs at least one track to measure."
NO_MEASUREMENT = "ffmpeg's ebur128 filter printed no measurement: {detail}"

_INTEGRATED = re.compile(r"lavfi\.r128\.I=(-?\d+(?:\.\d+)?)")
_TRUE_PEAK = re.compile(r"True peak:\s+Peak:\s+(-?(?:\d+(?:\.\d+)?|inf))\s+dBFS")
# ebur128 hands on frames of 100 ms; ametadata prints each one's time and loudness so far.
# (framelog=verbose: its own frame log stays below -loglevel info; "quiet" is not in ffmpeg 5.)
_MEASURE = "ebur128=peak=true:framelog=verbose:metadata=1,ametadata=mode=print:key=lavfi.r128.I"
_FRAME_TIME = re.compile(r"pts_time:(-?\d+(?:\.\d+)?)")
_FRAME_SECONDS = 0.1


@dataclass(frozen=True)
class Loudness:
    # None when nothing rose above the -70 LUFS absolute gate (silence): no gain follows.
    integrated_lufs: float | None
    true_peak_dbtp: float  # -inf for digital silence

    @property
    def true_peak(self) -> float:
        """The true peak as a linear amplitude (1.0 is full scale), ReplayGain's peak."""
        return peak_amplitude(self.true_peak_dbtp)

    @property
    def gain_db(self) -> float | None:
        """ReplayGain 2.0: the gain that brings the programme to -18 LUFS."""
        return None if self.integrated_lufs is None else gain_db(self.integrated_lufs)


def measure_loudness(path: Path | str) -> Loudness:
    """Integrated loudness and true peak of one track."""
    return measure_album_loudness([path])


def measure_album_loudness(paths: Sequence[Path | str]) -> Loudness:
    """Integrated loudness and true peak of tracks played end to end, as one programme."""
    if not paths:
        raise ProcessingFailed(NO_TRACKS)
    sources = [inspect_source(path) for path in paths]
    inputs = [argument for source in sources for argument in source.input_arguments()]
    if len(sources) == 1:
        graph = f"[0:a:0]{_MEASURE}"
    else:
        joined = "".join(f"[{index}:a:0]" for index in range(len(sources)))
        graph = f"{joined}concat=n={len(sources)}:v=0:a=1,{_MEASURE}"
    stderr = run_ffmpeg([*inputs, "-filter_complex", graph, "-f", "null", "-"], loglevel="info")
    frame_times = _FRAME_TIME.findall(stderr)
    check_decoded_length(
        decoded_seconds=float(frame_times[-1]) + _FRAME_SECONDS if frame_times else 0.0,
        declared_seconds=sum(source.declared_seconds for source in sources),
    )
    return _parse(stderr)


def _parse(stderr: str) -> Loudness:
    integrated = _INTEGRATED.findall(stderr)
    peak = _TRUE_PEAK.search(stderr)
    if not integrated or peak is None:
        detail = stderr.strip().splitlines()[-1] if stderr.strip() else "no output."
        raise ProcessingFailed(NO_MEASUREMENT.format(detail=detail))
    lufs = float(integrated[-1])
    return Loudness(
        integrated_lufs=None if lufs <= ABSOLUTE_GATE_LUFS else lufs,
        true_peak_dbtp=float(peak.group(1)),
    )
