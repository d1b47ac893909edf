"""Fault injection: real Celery worker and beat processes, killed on purpose (issue 18)."""
