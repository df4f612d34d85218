"""relcrm's settings plus the bare views of ``benchmarks.bare_urls``: what the API benchmark serves.

One server, one set of settings, so that the API and its floor (the bare
views) run in the same processes with the same database connections.
"""

from relcrm.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.bare_urls"
