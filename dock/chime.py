"""The dock's alert sound, made here rather than copied from anywhere: two short sine
notes (a rising fifth) with a soft attack and a quick decay, as a 16-bit mono WAV.

``python -m dock.chime`` writes ``static/audio/chime.wav``; a test keeps the file equal
to what this module makes, so the sound changes only through this code."""

from __future__ import annotations

import io
import math
import struct
import sys
import wave
from pathlib import Path

RATE = 22_050
NOTES = ((880.0, 0.11), (1318.5, 0.16))  # A5 then E6, seconds each
VOLUME = 0.35
ATTACK_SECONDS = 0.006
PATH = Path(__file__).resolve().parent.parent / "static" / "audio" / "chime.wav"


def samples() -> list[int]:
    out: list[int] = []
    for frequency, seconds in NOTES:
        count = int(RATE * seconds)
        for n in range(count):
            t = n / RATE
            envelope = min(1.0, t / ATTACK_SECONDS) * math.exp(-t * 5.0 / seconds)
            out.append(round(32767 * VOLUME * envelope * math.sin(2 * math.pi * frequency * t)))
    return out


def chime_wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        data = samples()
        wav.writeframes(struct.pack(f"<{len(data)}h", *data))
    return buffer.getvalue()


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(chime_wav())
