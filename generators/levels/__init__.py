"""The levels wing: everything only levels models need. See `domain.py` for the Domain."""
from .domain import LevelsDomain

__all__ = ["LevelsDomain"]
