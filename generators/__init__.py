"""Latent Forge's Qt-free core: VAE models, domains (levels, images, music), training and I/O.

Nothing in this package imports PySide6; `tests/core/test_architecture.py` checks that.
"""

import os as _os

# OpenMP workers sleep while they wait instead of spinning, so a busy machine does not stall torch
# (core/threads.py says why). Set before torch is first imported; a user's own setting wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
