"""Many organisations on one installation (issue 29, first slice; docs/organisations.md): a service
directory with a registry of organisations (`registry.py`) and one ordinary data directory each,
served side by side under /o/<slug>/ by one WSGI dispatcher (`dispatch.py`)."""
