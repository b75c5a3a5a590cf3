"""Celery tasks: thin, take ids, declared by their names in `app.task_names`; a job's task
runs its step through `tasks.support` (one retry policy), others call one service."""
