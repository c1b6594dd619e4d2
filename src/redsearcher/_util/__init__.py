from redsearcher._util._closing import AsyncClosing, Closing
from redsearcher._util._retry import send_with_retries
from redsearcher._util._serving import ThreadedUvicorn, listening_socket

__all__ = [
    "AsyncClosing",
    "Closing",
    "ThreadedUvicorn",
    "listening_socket",
    "send_with_retries",
]
