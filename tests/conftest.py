"""Markers live in pyproject.toml; the package is installed (editable) into .venv by `make
setup`."""

import pytest
from sandbox_helpers import MODES, sandbox_pool


@pytest.fixture(scope="module", params=MODES)
def pool(request):
    """A two-worker sandbox pool; every test that takes it runs in both modes."""
    with sandbox_pool(request.param) as p:
        yield p
