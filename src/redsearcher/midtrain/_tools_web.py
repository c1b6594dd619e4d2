"""Our own tools in tool-use dialogues: ``search`` and ``visit`` run in process over the index.

A share of tool-use dialogues resolves the last hop the way the agent does at rollout time: it
searches the web and reads a page. Those responses are not invented either: the package's own
tools (``redsearcher.tools.Toolbox`` over ``redsearcher.env.LocalEnvironment``) answer them from
the World's index, in the same rendering the agent reads. A hop is turned into search + visit only
when a document that states the fact (provenance) is among the results and the page read states
the value; otherwise the dialogue keeps the World tool.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from pathlib import Path
from typing import Any, Final

from redsearcher.env import LocalEnvironment
from redsearcher.errors import UserError
from redsearcher.midtrain._world_index import FactView
from redsearcher.registry import lookup
from redsearcher.tools import DEFAULT_TOOLS, Toolbox
from redsearcher.world.generate import MONTHS

__all__ = ["WebTools", "value_forms"]


def value_forms(fact: FactView, value: str) -> list[str]:
    """Ways a page may write a fact's value (``value`` is the canonical text)."""
    forms = [value]
    if fact.kind == "date":
        parts = value.split("-")
        if len(parts) >= 2:
            month = MONTHS[int(parts[1]) - 1]
            if len(parts) == 3:
                day = str(int(parts[2]))
                forms += [f"{month} {day}, {parts[0]}", f"{day} {month} {parts[0]}"]
            else:
                forms.append(f"{month} {parts[0]}")
    elif fact.kind == "quantity" and fact.amount is not None and float(fact.amount).is_integer():
        number = str(int(fact.amount))
        forms.append(value.replace(number, f"{int(fact.amount):,}", 1))
    return forms


class WebTools:
    """``search`` and ``visit`` over a World's index, called synchronously.

    Raises:
        UserError: when the index was built from another World than the generator's.
    """

    names: Final = ("search", "visit")

    def __init__(self, index_dir: str | Path, world_hash: str) -> None:
        self.env = LocalEnvironment.open(index_dir)
        built_from = self.env.manifest.world_content_hash
        if built_from != world_hash:
            self.env.close()
            raise UserError(
                f"{index_dir}: the index was built from World {built_from[:12]}, "
                f"not from this World ({world_hash[:12]}); tools.index must match"
            )
        self.toolbox = Toolbox.local(self.env, tools=list(self.names))

    def schemas(self) -> list[dict[str, Any]]:
        """The OpenAI schemas of all the agent's default tools (search, visit, python, ...)."""
        return [lookup("tool", name).openai_schema() for name in DEFAULT_TOOLS]

    def call(self, name: str, arguments: dict[str, Any]) -> str:
        """The text the agent's tool returns for this call."""
        return asyncio.run(self.toolbox.call(name, arguments))

    def find(self, query: str, doc_ids: Collection[str]) -> str | None:
        """The URL of the best-ranked result of ``query`` among ``doc_ids`` (``None``: none)."""
        for hit in self.env.search(query):
            if hit.doc_id in doc_ids:
                return hit.url
        return None

    def close(self) -> None:
        """Release the index."""
        self.env.close()
