"""Report writers: what accountants, monitors and buyers take away from a close.

The close's tables are in the DuckDB warehouse (`HOME/pennytrail.duckdb`); `pennytrail summary`
prints a month-by-month overview of them.
"""
