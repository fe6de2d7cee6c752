"""How gateway replicas share one deployment's work through the SQL database.

- ``lease`` and ``leader``: one replica at a time holds a renewed, expiring lease row and runs
  the once-per-deployment jobs (plan watching, housekeeping, later alarm evaluation).
- ``deliveries``: webhook deliveries are a job table; every replica's worker claims due rows
  (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and each claimed row is attempted by one worker.
- ``epochs``: a counter per replica-local cache; bumping it makes every replica drop that
  cache within ``POLIS_CACHE_SYNC_S``.

Rate limits shared by all replicas are in ``polis.gateway.security.ratelimit``.
"""
