"""Benchmark: cases/s of the persisted service layer beside bare SpiffWorkflow (``make bench``)."""
