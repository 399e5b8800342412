"""Every storage port in one SQLite file (WAL): the default store."""
