"""Worker integration tests: real Celery worker processes against a real database and broker."""
