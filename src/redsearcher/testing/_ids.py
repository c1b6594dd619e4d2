"""Token-id requests as vLLM and SGLang answer them, for the scripted models.

Token-exact episodes (``docs/rl.md``) send the prompt as token ids to vLLM's
``POST /v1/completions`` (``prompt: [ids]``, ``logprobs``, ``return_tokens_as_token_ids``,
``return_token_ids``) or SGLang's ``POST /generate`` (``input_ids``, ``return_logprob``). The
scripted models answer them from the same steps as chat requests, in those servers' shapes:
vLLM's ``text_completion`` with ``choices[0].token_ids``, ``prompt_token_ids`` and
``logprobs.tokens`` as ``token_id:N``; SGLang's ``meta_info.output_token_logprobs`` as
``[logprob, id, text]``. The step's text is tokenized with the test's tokenizer (a real one,
see :func:`~redsearcher.testing.tiny_chat_tokenizer`) unless the step fixes ``token_ids``.

A script is picked as for chat requests, by a substring of the prompt decoded to text; an
``Expect.last_message_contains`` checks that text too.
"""

from __future__ import annotations

from typing import Any, Literal

from redsearcher.model import TokenizerChat
from redsearcher.testing._script import Step
from redsearcher.testing._wire import AnswerIds, RequestError

__all__ = ["IdsApi", "chat_view", "generated", "ids_answer", "prompt_ids"]

IdsApi = Literal["vllm", "sglang"]


def prompt_ids(body: Any, api: IdsApi) -> list[int]:
    """The token-id prompt of a request.

    Raises:
        RequestError: 400 naming the field, as the servers refuse it.
    """
    if not isinstance(body, dict):
        raise RequestError(400, "request body must be a JSON object")
    field = "input_ids" if api == "sglang" else "prompt"
    if api == "vllm" and (not isinstance(body.get("model"), str) or not body["model"]):
        raise RequestError(400, "'model' is required and must be a non-empty string", param="model")
    ids = body.get(field)
    if not isinstance(ids, list) or not ids or not all(type(i) is int and i >= 0 for i in ids):
        raise RequestError(
            400, f"{field!r} must be a non-empty list of token ids (ints)", param=field
        )
    logprobs = body.get("logprobs")
    if api == "vllm" and logprobs is not None and (type(logprobs) is not int or logprobs < 0):
        raise RequestError(400, "'logprobs' must be a non-negative integer", param="logprobs")
    return ids


def chat_view(body: dict[str, Any], ids: list[int], chat: TokenizerChat) -> dict[str, Any]:
    """The request as a chat body whose one user message is the decoded prompt.

    Script selection and expectations read messages; this lets them read a token prompt.
    """
    model = body.get("model") if isinstance(body.get("model"), str) else "scripted"
    return {"model": model, "messages": [{"role": "user", "content": chat.decode(ids)}]}


def _made_up_logprob(token: int, position: int) -> float:
    return -round(0.01 + ((token * 7 + position) % 13) / 10, 3)


def generated(step: Step, chat: TokenizerChat) -> tuple[str, list[int], list[float], str]:
    """Text, ids, log-probs and finish reason a step answers with.

    Raises:
        RequestError: 400 for a step with native tool calls (token-exact requests are text).
    """
    if step.tool_calls:
        raise RequestError(400, "a token-exact request is answered with text, not tool_calls")
    finish = step.finish_reason or "stop"
    if step.token_ids is not None:
        ids = list(step.token_ids)
    else:
        ids = chat.encode(step.content or "")
        if finish == "stop" and chat.eos_id is not None:
            ids.append(chat.eos_id)
    text = step.content
    if text is None:
        text = chat.decode(ids, skip_special_tokens=True)
    logprobs = step.logprobs
    if logprobs is None:
        logprobs = [_made_up_logprob(t, i) for i, t in enumerate(ids)]
    return text, ids, list(logprobs), finish


def ids_answer(
    step: Step,
    body: dict[str, Any],
    ids: AnswerIds,
    prompt: list[int],
    chat: TokenizerChat,
    api: IdsApi,
) -> dict[str, Any]:
    """The answer to a token-id request in the server's shape.

    As the servers do, only what was asked for comes back: vLLM's ``token_ids`` and
    ``prompt_token_ids`` with ``return_token_ids``, its ``logprobs`` with ``logprobs`` (tokens
    as ``token_id:N`` with ``return_tokens_as_token_ids``, else as text); SGLang's
    ``output_token_logprobs`` with ``return_logprob``.
    """
    text, out, logprobs, finish = generated(step, chat)
    usage = {
        "prompt_tokens": len(prompt),
        "completion_tokens": len(out),
        "total_tokens": len(prompt) + len(out),
    }
    if api == "sglang":
        meta: dict[str, Any] = {
            "id": ids.completion_id,
            "finish_reason": {"type": finish},
            **{k: v for k, v in usage.items() if k != "total_tokens"},
        }
        if body.get("return_logprob"):
            meta["output_token_logprobs"] = [
                [lp, t, None] for lp, t in zip(logprobs, out, strict=True)
            ]
        return {"text": text, "output_ids": out, "meta_info": meta}
    choice: dict[str, Any] = {
        "index": 0,
        "text": text,
        "logprobs": None,
        "finish_reason": finish,
        "stop_reason": None,
    }
    if body.get("logprobs") is not None:
        as_ids = bool(body.get("return_tokens_as_token_ids"))
        names = [f"token_id:{t}" if as_ids else chat.decode([t]) for t in out]
        choice["logprobs"] = {
            "text_offset": [],
            "token_logprobs": logprobs,
            "tokens": names,
            "top_logprobs": [{n: lp} for n, lp in zip(names, logprobs, strict=True)],
        }
    if body.get("return_token_ids"):
        choice.update(token_ids=out, prompt_token_ids=prompt)
    return {
        "id": ids.completion_id.replace("chatcmpl", "cmpl"),
        "object": "text_completion",
        "created": ids.created,
        "model": body["model"],
        "choices": [choice],
        "usage": usage,
    }
