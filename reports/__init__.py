"""Report writers: what accountants, monitors and buyers take away from a close.

They read the published tables of the warehouse (`HOME/pennytrail.duckdb`) and write files:
the close workbook (``close.py``, Excel through ``xlsx.py``), traces of a worker, a grower's
month or an invoice (``trace.py``, shown by ``render.py`` as text, CSV, JSON or an Excel case
file), buyers' signed payment confirmations and their verification (``confirm.py``), and a
month's set of them (``month.py``). The application layer (``pennytrail.app``) calls them; they
decide no figure themselves.
"""
