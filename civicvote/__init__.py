"""civicvote: participatory budgeting and resident voting for urban communities.

The package root stays free of Flask imports so that the pure parts (``civicvote.allocation``)
can be used without the web stack; the application factory lives in ``civicvote.app``.
"""


def create_app(config: dict | None = None):
    """Application factory (see :func:`civicvote.app.create_app`)."""
    from .app import create_app as _create_app

    return _create_app(config)
