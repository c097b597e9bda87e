"""Signal-processing workers of the switchforge audio pipeline.

`analyzer` measures a track (tempo, key, loudness, spectral features); `separator` splits it
into stems with Demucs. Both speak JSON lines on stdout, driven by the TypeScript audio worker.
"""
