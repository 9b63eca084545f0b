"""Report writers: the files accountants, monitors, buyers and workers take away from a close.

They decide no figure, and read the warehouse only through the core's queries: the close
workbook (``close.py``, the sheets of ``pennytrail.core.closebook`` in Excel through
``xlsx.py``), a closed month's reports, its workbook and every buyer's confirmation
(``month.py``, what the ``month_reports`` asset writes), the tables of a trace
(``pennytrail.core.trace``) as text, CSV, JSON or an Excel case file (``render.py``), a buyer's
payment confirmation issued as signed files (``confirmations.py``; what the statement says, its
versions and its verification are ``pennytrail.core.confirmations``) laid out as PDF and CSV
(``confirm.py``), and the PDF of workers' statements (``worker_statement.py``, what each says
is ``pennytrail.core.worker_statement``). The Dagster assets, the application layer
(``pennytrail.app``) and the command call them; they import only the core, the catalogs' words
(``pennytrail.locale``) and one another, never the layers above (tests/test_layers.py).
"""
