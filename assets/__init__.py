"""The assets, by stage of the money's journey: ingest, reconcile, report."""
