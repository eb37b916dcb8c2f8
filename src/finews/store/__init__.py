"""The store: every article finews has seen, in a real database.

SQLite (a file, WAL) is the embedded default; the SQL goes through SQLAlchemy
Core so that PostgreSQL can follow behind the same :class:`Store` interface.
"""

from finews.store.decide import Insert, Intent, Unchanged, Update, decide
from finews.store.sqlstore import SaveReport, Store

__all__ = ["Insert", "Intent", "SaveReport", "Store", "Unchanged", "Update", "decide"]
