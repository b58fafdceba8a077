"""The domain-free core: the Domain seam, the VAE, likelihoods, conditions, latent operations,
priors, the Generator facade, training, checkpoints, file I/O, errors and evaluation.

Nothing here knows a tile, a pixel or a note, and nothing here imports a wing (tests check).
"""
