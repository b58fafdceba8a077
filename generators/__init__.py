"""Latent Forge's Qt-free core: VAE models, domains (levels, images, music), training and I/O.

Nothing in this package imports PySide6; `tests/core/test_architecture.py` checks that.
"""
