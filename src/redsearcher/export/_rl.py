"""RL query-set exports of synthesized tasks, in the formats the peers' trainers read.

- ``redsearcher``: REDSearcher's released RL set, rows ``{problem, answer, difficulty}``.
  ``difficulty`` is the string ``"tw{treewidth}-msd{msd}"`` (e.g. ``"tw3-msd4"``): the two
  measures §3 of the paper controls difficulty with, kept apart because neither orders tasks on
  its own, and readable without this package (sort or bucket on either part).
- ``slime``: JSONL ``{prompt, label}`` where ``prompt`` is the chat messages the episode starts
  from, system prompt included, and ``label`` the reference answer.
- ``verl``: verl / Search-R1 parquet ``{data_source, prompt: [{role: "user", content}], ability,
  reward_model: {style: "rule", ground_truth: {target: [answers]}}, extra_info}``; ``target``
  holds the answer and its aliases, ``extra_info`` the task id, index and difficulty measures.
- ``deeptracehub``: DeepTraceHub's input JSONL ``{idx, problem, answer}`` with ``idx`` the task
  id.

Tasks that a verifier rejected are left out unless asked for (``include_unverified``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from redsearcher.errors import UserError
from redsearcher.export._sft import write_jsonl
from redsearcher.log import Task, read_tasks
from redsearcher.registry import lookup, names, register

__all__ = [
    "RLExportSummary",
    "RLFormat",
    "agent_system_prompt",
    "difficulty_label",
    "export_rl",
    "rl_format_names",
    "rl_rows",
]

#: Registry kind of the RL query-set formats.
RL_FORMAT_KIND: Final = "rl_format"

#: ``data_source`` of verl rows.
DATA_SOURCE = "redsearcher"
#: ``ability`` of verl rows (Search-R1's value for multi-hop QA).
ABILITY = "fact-reasoning"


def agent_system_prompt(protocol: str = "native", *, agent: Any = None) -> str:
    """The system message an episode of the agent starts with, for RL prompts.

    Built exactly as :func:`redsearcher.agent.run_episode` builds it: the agent's packaged (or
    configured) system prompt, followed for the ``text`` protocol by the ``<tools>`` block of the
    agent's tools.

    Args:
        protocol: ``native`` or ``text``.
        agent: An :class:`~redsearcher.agent.AgentConfig` (defaults when omitted).

    Raises:
        ConfigError: for an unknown protocol or prompt version, or an unreadable prompt file.
    """
    from redsearcher.agent import AgentConfig, Prompts
    from redsearcher.model import get_protocol

    config = agent if agent is not None else AgentConfig()
    prompts = Prompts.load(
        config.prompt_version,
        system_file=config.system_prompt_file,
        current_date=config.current_date,
    )
    tools = [lookup("tool", name).openai_schema() for name in config.tools]
    return get_protocol(protocol).system_message(prompts.system, tools).content


def difficulty_label(task: Task) -> str:
    """``"tw{treewidth}-msd{msd}"``: the REDSearcher row's ``difficulty``.

    A task whose measures are unknown (not synthesized) has the empty label: no difficulty is
    better than an invented one.
    """
    if task.treewidth is None or task.msd is None:
        return ""
    return f"tw{task.treewidth}-msd{task.msd}"


@dataclass(frozen=True)
class RLFormat:
    """A registered RL format: how a task becomes a row, and the file type."""

    name: str
    """The ``--format`` name."""
    row: Callable[[Task, int, str], dict[str, Any]]
    """``(task, index, system_prompt) -> row``."""
    parquet: bool = False
    """Write parquet instead of JSONL."""
    system_prompt: bool = False
    """Rows open with the agent's system message (``row`` receives it)."""


def _redsearcher_row(task: Task, index: int, system: str) -> dict[str, Any]:
    return {"problem": task.question, "answer": task.answer, "difficulty": difficulty_label(task)}


def _slime_row(task: Task, index: int, system: str) -> dict[str, Any]:
    prompt = [{"role": "system", "content": system}, {"role": "user", "content": task.question}]
    return {"prompt": prompt, "label": task.answer}


def _verl_row(task: Task, index: int, system: str) -> dict[str, Any]:
    return {
        "data_source": DATA_SOURCE,
        "prompt": [{"role": "user", "content": task.question}],
        "ability": ABILITY,
        "reward_model": {"style": "rule", "ground_truth": {"target": task.answers}},
        "extra_info": {
            "split": "train",
            "index": index,
            "id": task.id,
            "treewidth": task.treewidth,
            "msd": task.msd,
            "difficulty": difficulty_label(task),
            "world_hash": task.world_hash,
        },
    }


def _deeptracehub_row(task: Task, index: int, system: str) -> dict[str, Any]:
    return {"idx": task.id, "problem": task.question, "answer": task.answer}


register(RL_FORMAT_KIND, "redsearcher")(RLFormat("redsearcher", _redsearcher_row))
register(RL_FORMAT_KIND, "slime")(RLFormat("slime", _slime_row, system_prompt=True))
register(RL_FORMAT_KIND, "verl")(RLFormat("verl", _verl_row, parquet=True))
register(RL_FORMAT_KIND, "deeptracehub")(RLFormat("deeptracehub", _deeptracehub_row))


def rl_format_names() -> list[str]:
    """The registered RL formats."""
    return names(RL_FORMAT_KIND)


def rl_rows(
    tasks: Sequence[Task], format: str, *, system_prompt: str | None = None
) -> list[dict[str, Any]]:
    """The rows of ``tasks`` in ``format`` (see the module docstring).

    Args:
        tasks: The tasks.
        format: A registered RL format.
        system_prompt: The system message of ``slime`` prompts (default: the agent's, native
            protocol; see :func:`agent_system_prompt`).

    Raises:
        ConfigError: for an unknown format.
    """
    spec = lookup(RL_FORMAT_KIND, format)
    assert isinstance(spec, RLFormat)
    system = system_prompt or ""
    if spec.system_prompt and system_prompt is None:
        system = agent_system_prompt()
    return [spec.row(task, i, system) for i, task in enumerate(tasks)]


@dataclass
class RLExportSummary:
    """What :func:`export_rl` wrote."""

    out: Path
    """The file written."""
    rows: int
    """Rows written."""
    skipped_unverified: int
    """Tasks left out because a verifier rejected them."""


def export_rl(
    tasks: str | Path,
    out: str | Path,
    *,
    format: str = "redsearcher",
    protocol: str = "native",
    system_prompt_file: str | Path | None = None,
    include_unverified: bool = False,
) -> RLExportSummary:
    """Write a tasks file as an RL query set in ``format`` (atomically).

    Args:
        tasks: A tasks JSONL file (``redsearcher synth`` output).
        out: The file to write (JSONL; parquet for ``verl``).
        format: ``redsearcher``, ``slime``, ``verl`` or ``deeptracehub``.
        protocol: ``slime``: the protocol whose system message opens each prompt (``text``
            adds the ``<tools>`` block).
        system_prompt_file: ``slime``: a file replacing the agent's system prompt text.
        include_unverified: Also export tasks a verifier rejected.

    Raises:
        ConfigError: for an unknown format.
        InputFormatError: for a malformed tasks file.
        UserError: when no task is left to export.
    """
    spec = lookup(RL_FORMAT_KIND, format)
    assert isinstance(spec, RLFormat)
    if not Path(tasks).is_file():
        raise UserError(f"{tasks}: tasks file not found")
    loaded = read_tasks(tasks)
    unanswered = [t.id for t in loaded if t.answer is None]
    if unanswered:
        raise UserError(
            f"{tasks}: task(s) without a reference answer cannot be an RL query set: "
            + ", ".join(unanswered[:5])
            + (" ..." if len(unanswered) > 5 else "")
        )
    kept = [t for t in loaded if include_unverified or t.verified]
    if not kept:
        raise UserError(f"{tasks}: no task to export ({len(loaded)} read, none verified)")
    system = None
    if spec.system_prompt:
        from redsearcher.agent import AgentConfig

        prompt_file = Path(system_prompt_file) if system_prompt_file else None
        system = agent_system_prompt(protocol, agent=AgentConfig(system_prompt_file=prompt_file))
    rows = rl_rows(kept, format, system_prompt=system)
    target = Path(out)
    if spec.parquet:
        _write_parquet(target, rows)
    else:
        write_jsonl(target, rows)
    return RLExportSummary(out=target, rows=len(rows), skipped_unverified=len(loaded) - len(kept))


def _write_parquet(path: Path, rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        pq.write_table(pa.Table.from_pylist(rows), tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
