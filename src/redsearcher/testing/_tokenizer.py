"""A real Hugging Face tokenizer and chat template built offline, for token-exact tests.

Token-exact episodes are only worth testing with a real byte-level BPE and a real Jinja chat
template: the drift they guard against (a generated split that re-tokenizing the decoded text
would not reproduce) exists only there. Downloading a model's tokenizer is not an option for
tests, so :func:`tiny_chat_tokenizer` trains a small BPE with ``tokenizers`` on the text it is
given (by default the tiny World's documents), wraps it in
``transformers.PreTrainedTokenizerFast`` and gives it a Qwen-style ChatML template with tools,
native tool calls and ``<tool_response>`` turns. Needs the ``rl`` extra (``transformers``) and
``tokenizers``; both are imported on call.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from redsearcher.model import TokenizerChat

__all__ = ["CHATML_TEMPLATE", "SPECIAL_TOKENS", "tiny_chat_tokenizer"]

#: The special tokens of the template; ``<|im_end|>`` is the end of sequence.
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")

#: A Qwen2.5-style ChatML template: tools in the system turn, native tool calls rendered as
#: ``<tool_call>`` JSON, consecutive ``tool`` messages grouped in one user turn.
CHATML_TEMPLATE = (
    "{% if tools %}<|im_start|>system\n"
    "{% if messages[0].role == 'system' %}{{ messages[0].content }}{{ '\\n\\n' }}{% endif %}"
    "# Tools\n\n<tools>\n"
    "{% for tool in tools %}{{ tool | tojson }}{{ '\\n' }}{% endfor %}"
    "</tools><|im_end|>\n"
    "{% elif messages[0].role == 'system' %}"
    "<|im_start|>system\n{{ messages[0].content }}<|im_end|>\n"
    "{% endif %}"
    "{% for message in messages %}"
    "{% if message.role == 'assistant' %}"
    "<|im_start|>assistant\n{{ message.content or '' }}"
    "{% for call in message.tool_calls or [] %}"
    '{{ \'\\n\' }}<tool_call>\n{"name": "{{ call.function.name }}", "arguments": '
    "{{ call.function.arguments }}}\n</tool_call>"
    "{% endfor %}<|im_end|>\n"
    "{% elif message.role == 'tool' %}"
    "{% if loop.first or messages[loop.index0 - 1].role != 'tool' %}<|im_start|>user"
    "{% endif %}{{ '\\n' }}<tool_response>\n{{ message.content }}\n</tool_response>"
    "{% if loop.last or messages[loop.index0 + 1].role != 'tool' %}<|im_end|>\n{% endif %}"
    "{% elif message.role != 'system' %}"
    "<|im_start|>{{ message.role }}\n{{ message.content }}<|im_end|>\n"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _default_corpus() -> list[str]:
    from redsearcher.testing._worlds import TINY_DOCUMENTS, TINY_ENTITIES

    texts = [d.text for d in TINY_DOCUMENTS] + [d.title for d in TINY_DOCUMENTS]
    texts += [e.label for e in TINY_ENTITIES]
    texts += [
        '<tool_call>\n{"name": "search", "arguments": {"query": "Marta Velden"}}\n</tool_call>'
    ]
    texts += ["<tool_response>\n</tool_response>", "<answer>Harwick</answer>", "<think>\n</think>"]
    return texts


def tiny_chat_tokenizer(
    texts: Iterable[str] | None = None,
    *,
    vocab_size: int = 600,
    save_to: str | Path | None = None,
) -> TokenizerChat:
    """A byte-level BPE trained on ``texts``, with :data:`CHATML_TEMPLATE`, as a TokenizerChat.

    Args:
        texts: Training text (default: the tiny World's documents and a few protocol tags).
        vocab_size: Target vocabulary, special tokens and the 256 bytes included.
        save_to: Also save it as a Hugging Face tokenizer directory there (for
            ``ModelConfig.tokens.tokenizer``).
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    corpus = list(texts) if texts is not None else _default_corpus()
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(corpus, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call,unused-ignore]
        tokenizer_object=bpe,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        chat_template=CHATML_TEMPLATE,
    )
    if save_to is not None:
        tokenizer.save_pretrained(str(save_to))
    return TokenizerChat(tokenizer)
