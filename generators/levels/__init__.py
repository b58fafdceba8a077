"""The levels wing: tile maps from VGLC files, their decoding, Tiled export, stitching into
whole levels, the playability agents and the level metrics. The Domain is in `domain.py`."""
