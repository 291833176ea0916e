"""One TLS context per process. Building one loads the CA bundle: ~35-40 ms of CPU that
httpx spends on every client it creates, plain-http calls included."""

import ssl
from functools import lru_cache


@lru_cache(maxsize=1)
def context() -> ssl.SSLContext:
    return ssl.create_default_context()
