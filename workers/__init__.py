"""designloop's workers: the Celery app, thin tasks, and the job runner they share.

``workers/`` joins ``service/`` (persistence, the job lease protocol) and ``models/`` (the
science): a task takes a job id, :mod:`workers.runtime` claims and fences the job, and one
handler in :mod:`workers.handlers` loads inputs, calls ``models/`` and stores results.
"""
