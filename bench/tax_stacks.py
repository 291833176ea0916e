"""What `make bench-tax` compares: the stacks (bare Django, the lab, the lab with LEAN) and
the views each serves, by path."""

STACKS = ("bare", "lab", "lean")
VIEWS = {"async": {"bare": "/async/", "lab": "/api/async/?delay=0"}, "sync": {"bare": "/sync/", "lab": "/api/?delay=0"}}
