"""Latent Forge's Qt-free core: VAE models, domains (levels, images, music), training and I/O.

Nothing in this package imports PySide6; `tests/core/test_architecture.py` checks that.
"""

import os as _os

# OpenMP workers sleep while they wait instead of spinning, so a busy machine does not stall torch
# (core/threads.py says why). Set before torch is first imported; a user's own setting wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# oneDNN keeps one compiled convolution per input shape (1,024 by default), each with its own
# buffers. Decoding batches of many sizes (items grouped by label set, the images denoiser) grew
# `sample images -n 2560` to 1.09 GB; with 64 it stays at the 0.56 GB of `-n 256`, and runs as fast.
_os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "64")
