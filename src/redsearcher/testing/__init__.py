"""Deterministic fakes shipped with the package, so tests exercise the real code end to end.

``ScriptedChatServer`` is an OpenAI-compatible chat-completions server over real HTTP that
answers from scripts (:class:`Script` of :class:`Step`) and fails the test when scripted steps
were left unused or a request was wrong. It needs the ``server`` extra (starlette, uvicorn),
imported only when a server starts. ``ScriptedModel`` is the same scripts in process: a
``redsearcher.model.ChatModel`` that records every call (messages, tools, the request it would
send) and fails on unused steps, for tests that need a model but not the HTTP path. Nothing here
imports pytest.

``oracle_scripts`` turns synthesized tasks' verified walks into scripts: a policy that needs no
model, for the main job and end-to-end tests. ``tiny_world`` writes a hand-built World whose
answers are known by construction; ``small_world`` generates a small synthetic one.
``tiny_chat_tokenizer`` trains a real byte-level BPE with a ChatML template offline, and both
scripted models answer token-id requests as vLLM and SGLang do, for token-exact episodes.
"""

from redsearcher.testing._chat_server import ScriptedChatServer
from redsearcher.testing._ledger import RecordedRequest
from redsearcher.testing._oracle import guesser_scripts, oracle_scripts
from redsearcher.testing._processes import sandbox_code_processes, wait_until
from redsearcher.testing._script import (
    Expect,
    Script,
    Step,
    StepError,
    ToolCallSpec,
    load_scripts,
    parse_scripts,
    text_answer,
    text_python_call,
    text_tool_call,
)
from redsearcher.testing._scripted_model import ModelCall, ScriptedModel
from redsearcher.testing._serve import scripted_chat_server, serve_chat_server
from redsearcher.testing._sockets import closed_within
from redsearcher.testing._tokenizer import CHATML_TEMPLATE, tiny_chat_tokenizer
from redsearcher.testing._wire import estimate_tokens
from redsearcher.testing._worlds import small_world, tiny_world

__all__ = [
    "CHATML_TEMPLATE",
    "Expect",
    "ModelCall",
    "RecordedRequest",
    "Script",
    "ScriptedChatServer",
    "ScriptedModel",
    "Step",
    "StepError",
    "ToolCallSpec",
    "closed_within",
    "estimate_tokens",
    "guesser_scripts",
    "load_scripts",
    "oracle_scripts",
    "parse_scripts",
    "sandbox_code_processes",
    "scripted_chat_server",
    "serve_chat_server",
    "small_world",
    "text_answer",
    "text_python_call",
    "text_tool_call",
    "tiny_chat_tokenizer",
    "tiny_world",
    "wait_until",
]
