from redsearcher._util._access import (
    AccessPolicy,
    HostPolicy,
    Refusal,
    bearer_token,
    check_api_key,
    is_json_type,
    is_loopback,
    key_accepted,
    request_headers,
)
from redsearcher._util._closing import AsyncClosing, Closing
from redsearcher._util._files import write_atomic
from redsearcher._util._head_limits import (
    HEADER_TIMEOUT_S,
    MAX_HEADER_BYTES,
    head_limit_options,
    status_error_body,
)
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
    "HEADER_TIMEOUT_S",
    "MAX_HEADER_BYTES",
    "OWNER_FILE",
    "REPLACEMENT",
    "AccessPolicy",
    "AsyncClosing",
    "Closing",
    "HostPolicy",
    "Refusal",
    "ServerHandle",
    "ThreadedUvicorn",
    "bearer_token",
    "check_api_key",
    "has_surrogates",
    "head_limit_options",
    "is_json_type",
    "is_loopback",
    "key_accepted",
    "listening_socket",
    "make_build_dir",
    "release_build_dir",
    "remove_stale_build_dirs",
    "replace_surrogates",
    "request_headers",
    "send_with_retries",
    "status_error_body",
    "surrogate_path",
    "write_atomic",
]
