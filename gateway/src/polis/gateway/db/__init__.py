"""Gateway state: keys, webhooks, modes, overrides, audit log (SQLAlchemy 2 + Alembic)."""
