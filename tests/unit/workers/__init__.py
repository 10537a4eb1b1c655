"""Unit tests of workers/: the runner, handlers, reaper and device choice (no broker)."""
