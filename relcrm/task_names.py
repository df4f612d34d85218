"""The registered name of every Celery task, imported by its decorator and its senders.

A task is sent by name from below its app (a write in ``accounts`` asks ``trust``
to recompute), so the name is the contract between the two: keeping it here, once,
means a renamed task cannot silently stop being sent. ``tests/test_task_names.py``
checks that every name sent or scheduled is registered with the Celery app.
"""

FLAG_OVERDUE_PROMISES = "promises.tasks.flag_overdue_promises"
SEND_DUE_SOON_REMINDERS = "promises.tasks.send_due_soon_reminders"
SEND_ALERT_DIGESTS = "promises.tasks.send_alert_digests"
COMPUTE_ACCOUNT_HEALTH = "trust.tasks.compute_account_health"
COMPUTE_TRUST_HEALTH = "trust.tasks.compute_trust_health"
COMPUTE_TRUST_CHUNK = "trust.tasks.compute_trust_chunk"
FINISH_TRUST_RECOMPUTE = "trust.tasks.finish_trust_recompute"
RUN_IMPORT_JOB = "imports.tasks.run_import_job"
RECOVER_IMPORT_JOBS = "imports.tasks.recover_import_jobs"
