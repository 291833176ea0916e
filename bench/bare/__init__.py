"""A bare Django project: no apps, no middleware, no database; one trivial sync and one
trivial async view. bench/asgi_tax.py serves it beside the lab's backend, under the same
server with the same options, to show what Django itself costs per request."""
