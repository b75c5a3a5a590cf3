"""Celery tasks: thin, take ids, call services and workers, own their retry policy."""
