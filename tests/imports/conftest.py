"""Fixtures of the import tests: uploads stored in a folder of the test's own."""

import pytest


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
