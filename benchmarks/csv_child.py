"""The CSV scenario's child process: one import or one export, timed from inside.

``python -m benchmarks.csv_child import FILE USERNAME``: ``run_import`` of the
file as that user (what ``manage.py import_csv`` and the worker run), then
prints ``{"seconds", "status", "created", "rows"}``.

``python -m benchmarks.csv_child export USERNAME``: every interaction the user
may see, streamed as ``GET /interactions/export/`` streams it (the view's
queryset and ``csv_response``, without the HTTP around it), into nothing; then
prints ``{"seconds", "bytes", "rows"}``.

Each also prints ``peak_rss_mib``, the process's own high-water mark
(``VmHWM``: since its ``exec``, so not the bench's own memory, which a fork
carries over into ``ru_maxrss``).
"""

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relcrm.settings")
django.setup()

from accounts.models import User  # noqa: E402
from imports import services  # noqa: E402
from imports.export import csv_response  # noqa: E402
from interactions.api import InteractionSerializer  # noqa: E402
from interactions.selectors import interactions_visible_to  # noqa: E402


def run_import(path: str, username: str) -> dict:
    user = User.objects.get(username=username)
    job = services.create_import_job(user=user, resource="interactions", file_name=path)
    started = time.perf_counter()
    with open(path, "rb") as source:
        job = services.run_import(job.pk, source=source)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "status": job.status,
        "created": job.created,
        "rows": job.rows_total,
    }


def run_export(username: str) -> dict:
    user = User.objects.get(username=username)
    started = time.perf_counter()
    queryset = interactions_visible_to(user).order_by("id")
    response = csv_response(InteractionSerializer, queryset, name="interactions")
    size = rows = 0
    for chunk in cast(Iterator[bytes], response.streaming_content):
        size += len(chunk)
        rows += chunk.count(b"\r\n")
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "bytes": size, "rows": rows - 1}


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    result = run_import(*args) if command == "import" else run_export(*args)
    print(json.dumps({**result, "peak_rss_mib": peak_rss_mib()}))
