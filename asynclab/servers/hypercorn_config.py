"""hypercorn's settings that have no command-line option (`--config python:` this module).

Imported by hypercorn's master only; its workers get the settings pickled.
"""

import logging

from .common import head_bytes

# The bytes h11 buffers for a request head before it gives up (400): hypercorn's default,
# 16 KiB, sits below one header field of the size the other servers accept.
h11_max_incomplete_size = head_bytes()
# hypercorn's own lines through the root logger, which Django's LOGGING writes as JSON,
# instead of a second, plain copy of each on stderr.
errorlog = logging.getLogger("hypercorn.error")
