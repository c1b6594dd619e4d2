"""The search agent: one ReAct loop, its context strategies, and the trajectory it records.

``run_episode(task, model=…, toolbox=…, config=…)`` runs one episode and returns a
``Trajectory`` with an explicit termination (``answer``, ``max_turns``, ``max_tool_calls``,
``context_limit``, ``error``). The loop is the same for every model; the message protocol comes
from the model (``redsearcher.model``) and context management from a registered strategy
(``discard_all`` — the paper's — ``keep_last_k``, ``rollback_answer``, ``none``). See
``docs/agent.md``. With a token-exact model (``ModelConfig.tokens``) each segment also records
its token ids, mask and log-probs (``TokenTrace``); ``episode_segments`` hands them to trainers
(``docs/rl.md``).
"""

from redsearcher.agent._config import AgentConfig, ContextConfig
from redsearcher.agent._context import (
    AnswerNow,
    ContextAction,
    ContextStrategy,
    DiscardAll,
    KeepLastK,
    NoStrategy,
    Restart,
    RollbackAnswer,
    Stop,
    Window,
    build_strategy,
    split_turns,
)
from redsearcher.agent._execute import ToolCrashed, execute_calls
from redsearcher.agent._loop import TokenCount, run_episode
from redsearcher.agent._prompts import PROMPT_NAMES, PROMPT_VERSION, Prompts, load_prompt
from redsearcher.agent._tokens import TokenSegment, TokenTrace, TokenTurn, episode_segments

__all__ = [
    "PROMPT_NAMES",
    "PROMPT_VERSION",
    "AgentConfig",
    "AnswerNow",
    "ContextAction",
    "ContextConfig",
    "ContextStrategy",
    "DiscardAll",
    "KeepLastK",
    "NoStrategy",
    "Prompts",
    "Restart",
    "RollbackAnswer",
    "Stop",
    "TokenCount",
    "TokenSegment",
    "TokenTrace",
    "TokenTurn",
    "ToolCrashed",
    "Window",
    "build_strategy",
    "episode_segments",
    "execute_calls",
    "load_prompt",
    "run_episode",
    "split_turns",
]
