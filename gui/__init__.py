"""The Latent Forge desktop app (PySide6). It talks to models only through the Generator
facade of `generators/` and never does tensor math: latents are numpy (D,) arrays.

app.py runs it; main_window.py holds one DomainView (domain_view.py) per domain; the view
wires the sample grid, sampling controls, conditions, direction sliders, preview and
interpolation panels; items.py and export.py are the Qt-free operations the workers run.
"""
