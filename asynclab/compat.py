"""What differs between the asgiref versions the lab runs on (docs/versions.md).

asgiref 3.6 (Django 4.2's) added iscoroutinefunction/markcoroutinefunction, which Django
since 4.2 asks to tell an async view or middleware from a sync one. Django 3.1 and 3.2,
with asgiref 3.3/3.4, ask asyncio instead, which sees an `async def` for what it is: there
the mark has nothing to add.
"""

try:
    from asgiref.sync import iscoroutinefunction, markcoroutinefunction
except ImportError:  # asgiref < 3.6
    from asyncio import iscoroutinefunction

    def markcoroutinefunction(func):
        return func


__all__ = ["iscoroutinefunction", "markcoroutinefunction"]
