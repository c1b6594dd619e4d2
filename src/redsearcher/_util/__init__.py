from redsearcher._util._closing import AsyncClosing, Closing
from redsearcher._util._retry import send_with_retries
from redsearcher._util._serving import ThreadedUvicorn, listening_socket
from redsearcher._util._text import REPLACEMENT, has_surrogates, replace_surrogates, surrogate_path

__all__ = [
    "REPLACEMENT",
    "AsyncClosing",
    "Closing",
    "ThreadedUvicorn",
    "has_surrogates",
    "listening_socket",
    "replace_surrogates",
    "send_with_retries",
    "surrogate_path",
]
