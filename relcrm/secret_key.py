"""The development secret key: random, made once, kept in ``var/secret_key``.

Production sets ``SECRET_KEY`` (with ``DEBUG`` off the settings refuse to start without
it). On a laptop, ``make run`` (bin/serve) and any process with ``DEBUG=1`` use this one,
so sessions survive a restart and the web server, the worker and beat agree, while no
key is predictable from the install or written into the repository.

``python -m relcrm.secret_key`` prints it (making it first if need be).
"""

import os
import secrets
import sys
from pathlib import Path

FILE_NAME = "secret_key"


def local_secret_key(var_dir: Path) -> str:
    """The key kept in ``var_dir``, made now if there is none (readable by its owner alone)."""
    path = var_dir / FILE_NAME
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        key = ""
    if key:
        return key
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    try:
        # Exclusive: of two processes starting at once, one writes and both use its key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    return key


if __name__ == "__main__":
    var = os.environ.get("RELCRM_VAR_DIR") or Path(__file__).resolve().parent.parent / "var"
    print(local_secret_key(Path(var)))
    sys.exit(0)
