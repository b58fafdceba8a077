"""The images wing: everything only images models need. See `domain.py` for the Domain."""
from .domain import ImagesDomain

__all__ = ["ImagesDomain"]
