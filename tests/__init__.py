"""The tests: unit and property tests of the rules (money, allocation, reference data, row
checks), bad and hostile input, the data contracts and their process, a small program whose
figures are worked out by hand, the generated demo program closed through the real Dagster graph
end to end (``conftest.closed_demo``) and checked against its answer key and an independent
reference implementation (``reference_impl.py``), the commands and their help, the layers, crash points and conservation broken on purpose, and
the portal (``tests/portal``: the permission matrix, its pages, and a real browser).
No test asserts wall time.
"""
