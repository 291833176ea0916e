"""loadgen: an honest load generator for the lab (python -m loadgen --help)."""
