"""Numenta Anomaly Benchmark: data loading, the NAB scorer (re-implemented from the paper), the runner."""
