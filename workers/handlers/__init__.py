"""Job handlers: one per job kind. Each loads inputs, calls ``models/`` once, stores results.

A handler receives a :class:`workers.runtime.JobContext` and writes only through
``ctx.commit_results``; the runner owns claiming, heartbeats, fencing and the error policy.
"""
