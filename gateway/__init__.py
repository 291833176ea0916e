"""The gateway: aggregates n calls to the backend, by one of four fan-out strategies
(gateway/strategies/; their paths are asynclab/api.py's STRATEGIES)."""
