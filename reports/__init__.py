"""Report writers: the files accountants, monitors, buyers and workers take away from a close.

They write figures they are given and decide none, nor read the warehouse: the close workbook
(``close.py``, the sheets of ``pennytrail.core.closebook`` in Excel through ``xlsx.py``), the
tables of a trace (``pennytrail.core.trace``) as text, CSV, JSON or an Excel case file
(``render.py``), the PDF and CSV of a buyer's payment confirmation (``confirm.py``; the
statement, its versions and its verification are ``pennytrail.app.confirmations``) and the PDF
of workers' statements (``worker_statement.py``). The application layer (``pennytrail.app``)
and the command call them.
"""
