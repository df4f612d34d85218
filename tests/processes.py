"""What a test needs to run relcrm in another process against its own test database."""

from urllib.parse import quote

from django.conf import settings


def database_url() -> str:
    """The test database as a URL, for a ``manage.py`` or Celery process started by a test.

    The embedded server listens on a Unix socket (its HOST is a folder), a real one
    on host and port; both forms are written the way libpq reads them.
    """
    db = settings.DATABASES["default"]
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    options = db.get("OPTIONS", {})
    host = db["HOST"] or options.get("host", "")
    port = db["PORT"] or options.get("port", 5432)
    if host.startswith("/"):
        return f"postgres://{user}{password}@/{db['NAME']}?host={quote(host, safe='/')}&port={port}"
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"
