"""A scripted OpenAI-compatible chat-completions server over real HTTP, for tests.

Why real HTTP: the code under test (agents, task synthesis, judges) reaches models through an
OpenAI-compatible client, and the failures worth testing sit in that path: tool-call parsing,
streaming, retries on 429/500, timeouts, concurrent rollouts. A fake client would skip all of it.

The server answers each request with the next :class:`~redsearcher.testing.Step` of the
:class:`~redsearcher.testing.Script` picked by the first user message, records every request,
and remembers every problem (no script, no steps left, a failed expectation, a malformed
request). Leaving the ``with`` block cleanly calls :meth:`ScriptedChatServer.assert_all_used`,
so a test fails when the code under test made fewer calls than scripted, or a wrong one.

Starlette and uvicorn are the optional extra ``server``; they are imported on :meth:`start`.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

from redsearcher._util import ServerHandle, ThreadedUvicorn
from redsearcher.model import TokenizerChat
from redsearcher.testing._http import CHAT_PATH, ChatApp
from redsearcher.testing._ids import IdsApi
from redsearcher.testing._ledger import Ledger, LedgerChecks, RecordedRequest
from redsearcher.testing._script import Script, Step, as_scripts

__all__ = ["ScriptedChatServer"]

#: Default bound on a request body; larger bodies get 413.
MAX_BODY_BYTES = 8 * 1024 * 1024


def _require_server_extra() -> None:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as err:
        raise ImportError(
            "the scripted chat server needs starlette and uvicorn: "
            "pip install 'redsearcher[server]'"
        ) from err


class ScriptedChatServer(LedgerChecks, ServerHandle):
    """An OpenAI-compatible chat server that answers from scripts, on ``127.0.0.1``.

    Example::

        with ScriptedChatServer([Step(content="hi")]) as server:
            client = openai.OpenAI(base_url=server.base_url, api_key="x")
            ...  # leaving the block fails if a step was unused or a request was wrong

    Args:
        scripts: Scripts, or steps that form one script taking every request.
        host: Interface to bind; keep the default so nothing outside the machine can connect.
        port: Port to bind; 0 picks a free one (see :attr:`base_url`).
        latency_s: Server-wide delay before every chat answer: seconds, or a ``(min, max)``
            range drawn uniformly from the seeded RNG.
        error_rate: Probability that a chat request gets a transient error (one of
            ``error_statuses``) instead of an answer; such a request consumes no step.
        error_statuses: Statuses injected errors are drawn from.
        seed: Seed of the RNG behind ``latency_s`` ranges and ``error_rate``.
        retry_after_ms: ``retry-after-ms`` header of injected errors, so clients that honour it
            (the OpenAI SDK does) retry quickly; ``None`` sends no header.
        max_body_bytes: Larger request bodies are answered 413.
        models: Model ids listed by ``GET /v1/models``.
        keep_alive: Keep connections open between requests. Off by default: clients that do not
            set ``TCP_NODELAY`` (httpx, hence the OpenAI SDK) wait for the delayed ACK, ~40 ms,
            on every request over a kept-alive connection; answering ``Connection: close``
            makes each request a fresh, fast connection.
        chat_template: Also answer token-id requests as ``token_api`` does (vLLM:
            ``POST /v1/completions``; SGLang: ``POST /generate``), each step's text tokenized
            with this tokenizer unless the step fixes ``token_ids`` (``docs/rl.md``).
        token_api: ``vllm`` or ``sglang``.
    """

    _label = "scripted chat server"

    def __init__(
        self,
        scripts: Script | Step | Sequence[Script] | Sequence[Step],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_s: float | tuple[float, float] = 0.0,
        error_rate: float = 0.0,
        error_statuses: Sequence[int] = (500, 429),
        seed: int = 0,
        retry_after_ms: int | None = 10,
        max_body_bytes: int = MAX_BODY_BYTES,
        models: Sequence[str] = ("scripted",),
        keep_alive: bool = False,
        chat_template: TokenizerChat | None = None,
        token_api: IdsApi = "vllm",
    ) -> None:
        self.scripts: list[Script] = as_scripts(scripts)
        self.host = host
        self._port = port
        self._ledger = Ledger.with_faults(
            self.scripts,
            latency_s=latency_s,
            error_rate=error_rate,
            error_statuses=error_statuses,
            seed=seed,
        )
        self._app = ChatApp(
            self._ledger,
            error_rate=error_rate,
            retry_after_ms=retry_after_ms,
            max_body_bytes=max_body_bytes,
            models=models,
            keep_alive=keep_alive,
            chat_template=chat_template,
            token_api=token_api,
        )
        self._server: ThreadedUvicorn | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> ScriptedChatServer:
        """Bind the port and serve in a background thread; return once it accepts requests.

        Raises:
            ImportError: without the ``server`` extra.
            RuntimeError: if already started, or if the server fails to come up.
        """
        if self._server is not None:
            raise RuntimeError("a ScriptedChatServer starts only once")
        _require_server_extra()
        self._server = ThreadedUvicorn(
            self._app.asgi(), host=self.host, port=self._port, name="scripted-chat-server"
        )
        self._server.start(timeout_s=10.0)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread (idempotent); does not check the scripts."""
        if self._server is not None:
            self._server.stop(timeout_s=10.0)

    def close(self) -> None:
        """Stop, then :meth:`assert_all_used`."""
        self.stop()
        self.assert_all_used()

    def __enter__(self) -> ScriptedChatServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
            return
        # The test already fails; keep its exception but say what the server refused, since a
        # client error (e.g. openai.BadRequestError) is often caused by a scripting mistake.
        self.stop()
        failures = self.failures
        if failures:
            exc.add_note("scripted chat server failures:\n  " + "\n  ".join(failures))

    @property
    def base_url(self) -> str:
        """The OpenAI ``base_url``, e.g. ``http://127.0.0.1:54321/v1``."""
        return self._started().url("/v1")

    # -- what happened (requests, failures, assert_all_used: LedgerChecks) --------------------

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The ``POST /v1/chat/completions`` requests among :attr:`requests`."""
        return [r for r in self.requests if r.path == CHAT_PATH]
