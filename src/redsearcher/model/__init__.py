"""Chat models as the agent uses them: an OpenAI-compatible client and two message protocols.

``ChatModel`` is what the agent loop and the rollout router code against; ``OpenAIChatModel``
implements it over ``POST {base_url}/chat/completions`` (vLLM, SGLang, OpenAI, the scripted test
server). The message protocol — ``native`` OpenAI tool calls or the Qwen/Hermes ``text``
protocol — is chosen by ``ModelConfig.protocol`` and implemented once per protocol in
``_protocols`` (registry kind ``"protocol"``). ``count_tokens`` sizes prompts for the agent's
context strategies. Token-exact episodes for RL (``ModelConfig.tokens``, ``docs/rl.md``) apply
the served model's chat template on the client (``TokenizerChat``) and send token ids to vLLM's
``/completions`` or SGLang's ``/generate`` (``OpenAIChatModel.complete_ids``). Nothing here
touches the network at import or construction.
"""

from redsearcher.model._chat_template import HFTokenizer, RenderedIds, TokenizerChat
from redsearcher.model._client import (
    OpenAIChatModel,
    is_context_length_error,
    token_completion,
    wire_message,
)
from redsearcher.model._config import ModelConfig, SamplingConfig, TokenConfig
from redsearcher.model._protocols import (
    MessageProtocol,
    NativeProtocol,
    ParsedCall,
    ParsedTurn,
    ProtocolOptions,
    TextProtocol,
    bad_text_error,
    extract_answer,
    get_protocol,
    split_reasoning,
)
from redsearcher.model._tokens import (
    CHARS_PER_TOKEN,
    MESSAGE_OVERHEAD,
    REPLY_OVERHEAD,
    TokenCounter,
    count_tokens,
    estimate_text_tokens,
)
from redsearcher.model._types import (
    ChatModel,
    CompletesTokens,
    Completion,
    ContextLengthExceeded,
    CountsTokens,
    DescribesSettings,
    ModelRequestError,
    ModelUnavailable,
    TokenCompletion,
)

__all__ = [
    "CHARS_PER_TOKEN",
    "MESSAGE_OVERHEAD",
    "REPLY_OVERHEAD",
    "ChatModel",
    "CompletesTokens",
    "Completion",
    "ContextLengthExceeded",
    "CountsTokens",
    "DescribesSettings",
    "HFTokenizer",
    "MessageProtocol",
    "ModelConfig",
    "ModelRequestError",
    "ModelUnavailable",
    "NativeProtocol",
    "OpenAIChatModel",
    "ParsedCall",
    "ParsedTurn",
    "ProtocolOptions",
    "RenderedIds",
    "SamplingConfig",
    "TextProtocol",
    "TokenCompletion",
    "TokenConfig",
    "TokenCounter",
    "TokenizerChat",
    "bad_text_error",
    "count_tokens",
    "estimate_text_tokens",
    "extract_answer",
    "get_protocol",
    "is_context_length_error",
    "split_reasoning",
    "token_completion",
    "wire_message",
]
