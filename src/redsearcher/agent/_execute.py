"""Running one turn's tool calls: concurrently, each timed, every outcome a record.

Apart from the loop so the loop reads as the ReAct cycle only. Failures follow the two tiers of
:mod:`redsearcher.tools._tools`: a :class:`~redsearcher.tools.ToolError` (and a malformed call, an
unknown tool, a timeout, a call over the budget) is text for the model and the episode goes on;
a :class:`~redsearcher.errors.ConfigError` stops the run. Anything else is a bug in a tool: it is
raised as :class:`ToolCrashed` so the episode ends with ``error`` naming it, instead of one bad
call killing a rollout of thousands (the traceback is logged).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection, Sequence

from redsearcher.errors import ConfigError, RedsearcherError
from redsearcher.log import ToolCallRecord
from redsearcher.model import ParsedCall
from redsearcher.tools import Toolbox, ToolError

__all__ = ["ToolCrashed", "execute_calls"]

logger = logging.getLogger(__name__)


class ToolCrashed(RedsearcherError):
    """A tool raised something other than ``ToolError``/``ConfigError`` (a bug)."""


async def _one(
    toolbox: Toolbox,
    call: ParsedCall,
    *,
    offered: Collection[str],
    allowed: bool,
    limit: int | None,
    timeout_s: float | None,
) -> tuple[str, bool, float, bool]:
    """``(output, error, latency_s, executed)`` of one call."""
    if call.error is not None:
        return call.error, True, 0.0, False
    if call.name not in offered:
        known = ", ".join(offered)
        return f"Unknown tool '{call.name}'. Available tools: {known}.", True, 0.0, False
    if not allowed:
        return (
            f"Not run: the limit of {limit} tool calls for this task was reached.",
            True,
            0.0,
            False,
        )
    start = time.perf_counter()
    try:
        output = await asyncio.wait_for(toolbox.call(call.name, call.arguments), timeout_s)
        error = False
    except ToolError as err:
        output, error = str(err), True
    except TimeoutError:
        output, error = f"The {call.name} call timed out after {timeout_s:g} seconds.", True
    return output, error, time.perf_counter() - start, True


async def execute_calls(
    toolbox: Toolbox,
    calls: Sequence[ParsedCall],
    *,
    offered: Collection[str],
    turn: int,
    segment: int,
    budget: int | None = None,
    limit: int | None = None,
    timeout_s: float | None = None,
) -> tuple[list[ToolCallRecord], int]:
    """Run ``calls`` at the same time and record each.

    Args:
        toolbox: Runs the calls.
        calls: The turn's parsed calls, in order.
        offered: Tool names the model may call.
        turn: The assistant turn that made the calls.
        segment: The segment they belong to.
        budget: How many more calls may run (``None``: any); later calls are not run.
        limit: The episode's tool-call limit, named in the "not run" message.
        timeout_s: Bound on one call (``None``: none).

    Returns:
        The records, in call order, and how many calls really ran.

    Raises:
        ConfigError: from a tool (e.g. a rejected API key).
        ToolCrashed: when a tool raised anything else.
    """
    allowed = []
    left = budget
    for call in calls:
        runnable = call.error is None and call.name in offered
        ok = left is None or left > 0
        allowed.append(ok)
        if runnable and left is not None and ok:
            left -= 1
    outcomes = await asyncio.gather(
        *(
            _one(toolbox, c, offered=offered, allowed=a, limit=limit, timeout_s=timeout_s)
            for c, a in zip(calls, allowed, strict=True)
        ),
        return_exceptions=True,
    )
    records: list[ToolCallRecord] = []
    executed = 0
    for call, outcome in zip(calls, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            if isinstance(outcome, ConfigError) or not isinstance(outcome, Exception):
                raise outcome  # ConfigError, CancelledError, KeyboardInterrupt, ...
            logger.error("tool %s crashed", call.name, exc_info=outcome)
            message = f"tool {call.name} raised {type(outcome).__name__}: {outcome}"
            raise ToolCrashed(message) from outcome
        output, error, latency, ran = outcome
        executed += ran
        records.append(
            ToolCallRecord(
                id=call.id,
                turn=turn,
                segment=segment,
                name=call.name,
                arguments=call.arguments,
                output=output,
                error=error,
                latency_s=latency,
            )
        )
    return records, executed
