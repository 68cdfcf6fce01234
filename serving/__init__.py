"""The serving layer: gold for readers, from the PostgreSQL serving cache inside the retention
window and the archive (the S3 lake or the DuckDB warehouse) before it, as one series."""
