"""The images wing: RGBA icons, their files, the discretised logistic likelihood, the
classifier and the image metrics. The Domain is in `domain.py`."""
