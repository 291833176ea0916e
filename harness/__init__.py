"""Host-side harness the tests and the benches share: live servers of the lab's own (or of
another project, as bench/asgi_tax.py's bare Django) started on free ports of 127.0.0.1,
over real sockets, and what they cost in CPU."""
