from redsearcher._util._closing import AsyncClosing, Closing
from redsearcher._util._files import write_atomic
from redsearcher._util._retry import send_with_retries
from redsearcher._util._serving import ServerHandle, ThreadedUvicorn, listening_socket
from redsearcher._util._text import REPLACEMENT, has_surrogates, replace_surrogates, surrogate_path
from redsearcher._util._tmpdirs import (
    OWNER_FILE,
    make_build_dir,
    release_build_dir,
    remove_stale_build_dirs,
)

__all__ = [
    "OWNER_FILE",
    "REPLACEMENT",
    "AsyncClosing",
    "Closing",
    "ServerHandle",
    "ThreadedUvicorn",
    "has_surrogates",
    "listening_socket",
    "make_build_dir",
    "release_build_dir",
    "remove_stale_build_dirs",
    "replace_surrogates",
    "send_with_retries",
    "surrogate_path",
    "write_atomic",
]
