"""gunicorn worker classes the modes name with --worker-class.

gunicorn's master imports them before it forks, so they import neither Django nor the
lab's services: under gevent nothing may load Django before the worker patches the
standard library (Django's per-thread state would be shared by every greenlet).
"""
