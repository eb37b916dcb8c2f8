"""Fetching spread over several processes and machines: Celery workers with a Redis
broker, and per-site request spacing kept in Redis (issue #9).  Optional: the
single-process ``finews run`` needs none of it; this package needs ``finews[scale]``."""
