"""The agent's fixed texts, as versioned files under ``prompts/`` (``<name>.<version>.txt``).

Versioned files rather than string constants so a trajectory's provenance (the agent config
names ``prompt_version``) says exactly which words the model read, and a new wording is a new
file instead of a silent edit that mixes incompatible SFT data.

* ``system`` — the task specification (the text protocol appends its ``<tools>`` block);
* ``context_reset`` — added to the question when discard-all drops the history (§2.3);
* ``context_trim`` — added to the question when keep-last-k drops older turns;
* ``nudge`` — sent once when a reply has neither a tool call nor an answer;
* ``answer_now`` — sent when a limit is reached, to ask for a final answer;
* ``attachment`` — one line per file the task comes with, after the question (``{name}`` is
  the file's name in the Python tool's working directory).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from redsearcher.errors import ConfigError

__all__ = ["PROMPT_NAMES", "PROMPT_VERSION", "Prompts", "load_prompt"]

#: The prompt version used unless configured otherwise.
PROMPT_VERSION = "v1"
#: Every prompt a version must provide.
PROMPT_NAMES = ("system", "context_reset", "context_trim", "nudge", "answer_now", "attachment")


@cache
def load_prompt(name: str, version: str = PROMPT_VERSION) -> str:
    """The packaged prompt ``prompts/<name>.<version>.txt``, without trailing whitespace.

    Raises:
        ConfigError: for an unknown name or version.
    """
    path = resources.files("redsearcher.agent").joinpath("prompts", f"{name}.{version}.txt")
    try:
        return path.read_text(encoding="utf-8").rstrip()
    except FileNotFoundError as err:
        raise ConfigError(f"no agent prompt {name!r} of version {version!r}") from err


@dataclass(frozen=True)
class Prompts:
    """The texts of one episode."""

    system: str
    context_reset: str
    context_trim: str
    nudge: str
    answer_now: str
    attachment: str

    def attached(self, name: str) -> str:
        """The line telling the model that file ``name`` came with the question."""
        return self.attachment.replace("{name}", name)

    @classmethod
    def load(
        cls,
        version: str = PROMPT_VERSION,
        *,
        system_file: Path | None = None,
        current_date: str | None = None,
    ) -> Prompts:
        """The packaged prompts of ``version``, the system prompt optionally from a file.

        Args:
            version: The prompt version.
            system_file: A text file replacing the packaged system prompt.
            current_date: Appended to the system prompt as ``Current date: …`` (Tongyi does
                this); ``None`` leaves it out so that prompts are reproducible.

        Raises:
            ConfigError: for an unknown version or an unreadable system file.
        """
        texts = {name: load_prompt(name, version) for name in PROMPT_NAMES}
        if system_file is not None:
            try:
                texts["system"] = Path(system_file).read_text(encoding="utf-8").rstrip()
            except OSError as err:
                raise ConfigError(f"{system_file}: cannot read the system prompt: {err}") from err
        if current_date:
            texts["system"] += f"\n\nCurrent date: {current_date}"
        return cls(**texts)
