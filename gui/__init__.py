"""The Latent Forge desktop app (PySide6). It talks to models only through the Generator
facade of `generators/` and never does tensor math: latents are numpy (D,) arrays.

app.py runs it; main_window.py holds one DomainView (domain_view.py) per domain; the view
wires the sample grid (with typicality badges), sampling controls, conditions, direction
sliders, preview, interpolation, four-corner palette (palette.py), latent map (latent_map.py)
and favourites (favourites_panel.py). The Qt-free parts the workers run are items.py,
export.py, typicality.py, corpus_map.py (map encodings and their cache) and
favourites_store.py; storage.py says where the app keeps its cache and favourites.
screenshots.py takes the README screenshots with the app itself.
"""
