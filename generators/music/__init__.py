"""The music wing: piano rolls, MIDI and WAV files, the synthesiser, the JSB benchmark and the
music metrics. The Domain is in `domain.py`."""
