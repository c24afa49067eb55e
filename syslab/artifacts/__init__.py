"""The run artifact: SQLite + git + content-addressed evidence + manifest."""
