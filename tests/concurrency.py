"""Running code at the same time on several database connections, for the tests of races."""

import threading

from django.db import connection


def in_parallel(function, copies: int) -> list:
    """Run ``function`` in ``copies`` threads released at once, each on its own connection."""
    barrier = threading.Barrier(copies)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(function())
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(results) == copies, "a thread did not finish within a minute"
    return results
