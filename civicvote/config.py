"""Configuration: defaults in code, secrets and URLs from ``CIVICVOTE_*`` environment variables."""

import contextlib
import os
import secrets
from importlib.util import find_spec
from pathlib import Path

import click

# The drivers of the optional services, by URL scheme: the module each needs and the extra of
# ours that installs it. The SQLite quick start needs neither.
DRIVERS = {
    "postgresql": ("psycopg", "postgres", "PostgreSQL"),
    "redis": ("redis", "redis", "Redis"),
    "rediss": ("redis", "redis", "Redis"),
}


class MissingDriver(click.ClickException):
    """A configured service whose driver is not installed (the command line prints one line)."""


class BadSetting(click.ClickException):
    """A setting outside its range (the command line prints one line)."""


def require_driver(url: str, setting: str) -> None:
    """Refuse ``url`` early, naming the extra to install, when its driver is missing."""
    scheme = url.partition(":")[0].partition("+")[0].lower()
    if scheme not in DRIVERS:
        return
    module, extra, service = DRIVERS[scheme]
    if find_spec(module) is None:
        raise MissingDriver(
            f"{setting} names {service}, whose driver ({module}) is not installed. "
            f"Install it with: python -m pip install 'civicvote[{extra}]'"
        )


MAX_PROXY_HOPS = 5


def instance_path() -> Path:
    """The folder for the SQLite file and the generated secret key (``./instance`` by default)."""
    return Path(os.environ.get("CIVICVOTE_INSTANCE_PATH", "instance")).resolve()


def make_instance_folder(folder: Path) -> None:
    """The instance folder, readable by its owner only when we create it."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def write_private_file(path: Path, data: bytes) -> bool:
    """Create ``path`` with mode 0600 holding ``data``, all at once: it appears complete or not
    at all (written beside it, then linked into place, which fails if it exists). False when
    another process created it first."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)
        return True
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)


def _secret_key(folder: Path) -> str:
    """The secret key from the environment, else one generated once and kept in ``instance/``.

    Two workers starting at once must agree on the key, and neither may read the file while
    the other is still writing it (an empty key): write_private_file publishes it complete.
    """
    from_env = os.environ.get("CIVICVOTE_SECRET_KEY")
    if from_env:
        return from_env
    key_file = folder / "secret_key"
    if not key_file.exists():
        make_instance_folder(folder)
        write_private_file(key_file, secrets.token_hex(32).encode())
    return key_file.read_text().strip()


def create_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists. Before SQLite opens a new
    database file (SQLite gives its -wal and -shm files the same mode): the registry and the
    votes are not for other users of the machine."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


DEFAULT_BASE_URL = "http://127.0.0.1:5000"


def public_base_url(config) -> str:
    """The address printed on posters, voter cards and walk-in links: PUBLIC_BASE_URL, else the
    configured SERVER_NAME, else the development server's. Never the request's Host header,
    which any client can set (a forged Host would put another site on the cards).
    ``civicvote serve`` refuses to start without PUBLIC_BASE_URL."""
    base = config.get("PUBLIC_BASE_URL")
    if not base and config.get("SERVER_NAME"):
        base = f"{config.get('PREFERRED_URL_SCHEME') or 'http'}://{config['SERVER_NAME']}"
    return (base or DEFAULT_BASE_URL).rstrip("/")


def database_url(folder: Path) -> str:
    url = os.environ.get("CIVICVOTE_DATABASE_URL")
    if url:
        # Plain postgresql:// URLs go through psycopg 3 (the [postgres] extra).
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
    make_instance_folder(folder)
    create_private_file(folder / "civicvote.db")
    return f"sqlite:///{folder / 'civicvote.db'}"


def size_connection_pool(settings: dict) -> None:
    """Keep one PostgreSQL connection per server thread open (``civicvote serve`` says how many).

    A pool smaller than the number of threads closes the connections it cannot keep whenever
    more threads return one at once, and opens new ones moments later: each a new server process
    that parses every statement afresh. That cost a busy server more than the votes themselves.
    """
    if not str(settings.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql"):
        return
    threads = int(os.environ.get("CIVICVOTE_SERVER_THREADS") or 0)
    options = dict(settings.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("pool_size", max(5, threads))
    settings["SQLALCHEMY_ENGINE_OPTIONS"] = options


def proxy_hops(value: str | int | None) -> int:
    """How many reverse proxies (nginx...) stand in front of the server: 0 to 5.

    Their ``X-Forwarded-For`` and ``X-Forwarded-Proto`` headers are believed for that many hops
    and no further (app.register_middleware), so the rate limits and logs see the real client.
    """
    text = str(value if value is not None else "0").strip() or "0"
    if not text.isdigit() or not 0 <= int(text) <= MAX_PROXY_HOPS:
        raise BadSetting(
            f"CIVICVOTE_PROXY_HOPS must be a whole number from 0 to {MAX_PROXY_HOPS} "
            f"(the reverse proxies in front of the server), not {value!r}"
        )
    return int(text)


def recovery_minutes(value) -> int:
    """CIVICVOTE_RECEIPT_RECOVERY_MINUTES: 0 (no recovery) to 1440 (a day)."""
    text = str(value).strip()
    if not text.isdigit() or int(text) > 1440:
        raise BadSetting(
            "CIVICVOTE_RECEIPT_RECOVERY_MINUTES must be a whole number of minutes from 0 to "
            f"1440 (how long a retried vote gets its receipt back), not {value!r}"
        )
    return int(text)


def load_config(overrides: dict | None = None) -> dict:
    """The configuration mapping: the environment's settings, then ``overrides`` (tests).

    Nothing is computed that ``overrides`` sets: given a SECRET_KEY, no key file is written;
    given a database URL, no instance folder is made for the default SQLite file.
    """
    overrides = overrides or {}
    folder = Path(overrides.get("INSTANCE_PATH") or instance_path())
    settings = {
        "INSTANCE_PATH": str(folder),
        # Signs published audit chain heads (Ed25519; PEM or 64 hex digits). Empty: a key is
        # generated once into the instance folder (civicvote/audit/signing.py).
        "AUDIT_SIGNING_KEY": os.environ.get("CIVICVOTE_AUDIT_SIGNING_KEY", ""),
        # No pool_pre_ping: it costs a round trip per request. app.py checks only connections
        # that sat idle in the pool (see _ping_after_idle).
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "RATELIMIT_STORAGE_URI": os.environ.get("CIVICVOTE_RATELIMIT_STORAGE_URL", "memory://"),
        # No X-RateLimit-* headers on every answer: they cost two more reads of the rate-limit
        # storage per request. A refusal (429) still says when to retry (main/errors.py).
        "RATELIMIT_HEADERS_ENABLED": False,
        # Redis unreachable: limits hold in each process's memory until it is back (also
        # ratelimit.py), rather than every limited request failing.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_LOGIN": os.environ.get(
            "CIVICVOTE_RATELIMIT_LOGIN", "10 per minute; 50 per hour"
        ),
        "PUBLIC_BASE_URL": os.environ.get("CIVICVOTE_PUBLIC_BASE_URL", ""),
        "PROXY_HOPS": os.environ.get("CIVICVOTE_PROXY_HOPS", "0"),
        # How long a retried vote gets its receipt back (voting/replays.py, docs/secrecy.md).
        "RECEIPT_RECOVERY_MINUTES": os.environ.get("CIVICVOTE_RECEIPT_RECOVERY_MINUTES", "30"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("CIVICVOTE_SECURE_COOKIES", "0") == "1",
        # Every other cookie follows SESSION_COOKIE_SECURE (below; main/views.py for the
        # language); with it on, responses also carry HSTS (security.py).
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": "zh_Hans",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("CIVICVOTE_TIMEZONE", "Asia/Shanghai"),
        "LANGUAGES": ["zh_Hans", "en"],
    }
    settings.update(overrides)
    if str(settings["RATELIMIT_STORAGE_URI"]).startswith(("redis://", "rediss://")):
        # An unreachable Redis answers within a second, as limits' own error (StorageError),
        # which the fallback above and ratelimit.py catch.
        settings.setdefault(
            "RATELIMIT_STORAGE_OPTIONS",
            {"socket_connect_timeout": 1, "socket_timeout": 1, "wrap_exceptions": True},
        )
    settings.setdefault("REMEMBER_COOKIE_SECURE", settings["SESSION_COOKIE_SECURE"])
    # An error's message never carries a statement's values (a card's hash, a ballot's
    # contents, a receipt) into the logs (voting/redact.py).
    settings["SQLALCHEMY_ENGINE_OPTIONS"] = {
        "hide_parameters": True,
        **(settings["SQLALCHEMY_ENGINE_OPTIONS"] or {}),
    }
    if "SECRET_KEY" not in settings:
        settings["SECRET_KEY"] = _secret_key(folder)
    if "SQLALCHEMY_DATABASE_URI" not in settings:
        settings["SQLALCHEMY_DATABASE_URI"] = database_url(folder)
    require_driver(settings["SQLALCHEMY_DATABASE_URI"], "CIVICVOTE_DATABASE_URL")
    require_driver(settings["RATELIMIT_STORAGE_URI"], "CIVICVOTE_RATELIMIT_STORAGE_URL")
    settings["PROXY_HOPS"] = proxy_hops(settings["PROXY_HOPS"])
    settings["RECEIPT_RECOVERY_MINUTES"] = recovery_minutes(settings["RECEIPT_RECOVERY_MINUTES"])
    return settings
