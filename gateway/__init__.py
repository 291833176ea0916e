"""The gateway: aggregates n calls to the backend, by one of three fan-out strategies."""
