"""Report writers: what accountants, monitors and buyers take away from a close.

They read the published tables of the warehouse (`HOME/pennytrail.duckdb`) and write files or
tables: the close workbook (``close.py``, Excel through ``xlsx.py``), traces of a worker, a
grower's month or an invoice (``trace.py``, shown by ``render.py`` as text, CSV, JSON or an
Excel case file), the PDF and CSV of a buyer's payment confirmation (``confirm.py``; the
statement, its versions and its verification are ``pennytrail.app.confirmations``), and the
as-of date and handshake figures they share (``handshake.py``). The application layer
(``pennytrail.app``) calls them; they decide no figure themselves.
"""
