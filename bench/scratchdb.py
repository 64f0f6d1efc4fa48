"""A throwaway PostgreSQL database for a benchmark (or the one given, left alone)."""

import os
import uuid

ADMIN_URL = os.environ.get(
    "CIVICVOTE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


class Database:
    """``url`` if given (an existing database, left alone); else a new database named
    ``prefix`` and a random suffix on the server of ADMIN_URL, which :meth:`drop` removes."""

    def __init__(self, url: str | None, prefix: str = "civicvote_bench"):
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        self.created = url is None
        if url:
            self.url = url
            return
        self.name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        self.url = make_url(ADMIN_URL).set(database=self.name).render_as_string(False)
        self._admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        self._text = text
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))

    def drop(self) -> None:
        """Drop the database if this object created it (open connections are ended)."""
        if not self.created:
            return
        with self._admin.connect() as connection:
            connection.execute(self._text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self._admin.dispose()
