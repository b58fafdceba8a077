"""The music wing: everything only music models need. See `domain.py` for the Domain."""
from .domain import MusicDomain

__all__ = ["MusicDomain"]
