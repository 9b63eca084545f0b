"""The domain rules of pennytrail, free of any framework.

The bottom floor: everything that decides a figure, as plain functions over files and the DuckDB
warehouse. ``money`` parses text into exact cents; ``screening`` measures a file's size and
shape before it is read; ``reading`` reads CSV and Excel submissions as text; ``ids`` says which
ids are acceptable; ``reference`` loads and checks the reference data; ``validate`` runs the row
checks (a list of functions, in the order of the row outcomes); ``ingest`` applies every file
exactly once, accepting or quarantining each row; ``reconcile`` builds the working tables
(``w_*``) by running the statements of ``stages``, one module per stage of the money's journey
with its SQL beside it (owed, handshake, payments, pools, allocation, worker audit, findings,
lineage); ``conservation`` checks that the money adds up; ``publish`` replaces a month's
published tables and keeps its sign-off honest, by the rules of ``signoff``; ``privacy`` is the
disclosure rule for what a buyer sees; ``worker_statement`` says what each worker is told of
their share and its words; ``statement`` makes and verifies signed statements;
``confirmations`` says what a buyer's payment confirmation holds, what changed since its last
version and how one is verified, signed with the key of ``keys``; ``exception_queue`` reads the
portal's notes on a month's exceptions (read-only) for the close workbook;
``paths`` names party folders without taking a path from input; ``homelock`` keeps one writer
per home; ``warehouse`` holds the schema and the connection; ``faults`` names the crash points
the tests inject. Nothing here imports Dagster, Great Expectations, a web framework, or anything
of ``pennytrail.app``, ``pennytrail.cli``, ``pennytrail.web``, ``pipelines/``, ``assets/`` or
``reports/``; the contracts are read as data through the ``data_contracts`` loader
(tests/test_layers.py holds this).
"""
