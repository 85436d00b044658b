"""Markers live in pyproject.toml; the package is installed (editable) into .venv by `make setup`."""
