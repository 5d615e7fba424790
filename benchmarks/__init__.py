"""smacish benchmarks: overhead, scaling and utilisation measurements (run each script directly)."""
