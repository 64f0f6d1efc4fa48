"""The end-to-end round reuses the browser tests' Chromium."""

from tests.browser.conftest import chromium  # noqa: F401 (a fixture)
