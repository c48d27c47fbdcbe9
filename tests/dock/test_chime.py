"""The alert sound is made by code, and the file the dock serves is what it makes."""

from __future__ import annotations

import io
import wave

from dock.chime import PATH, chime_wav


def test_the_served_chime_is_the_one_the_code_makes():
    assert PATH.read_bytes() == chime_wav()


def test_the_chime_is_short_and_quiet_enough_to_hear_often():
    with wave.open(io.BytesIO(chime_wav())) as wav:
        seconds = wav.getnframes() / wav.getframerate()
        frames = wav.readframes(wav.getnframes())
    samples = memoryview(frames).cast("h")
    assert 0.1 < seconds < 0.5
    assert max(abs(s) for s in samples) < 0.5 * 32767
