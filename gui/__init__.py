"""Latent Forge's Qt desktop app. Talks to `generators` only through the Generator facade."""
