"""``redsearcher bench gaia`` with an attachment, through the real HTTP server's ``/run_code``.

GAIA's layout (``metadata.jsonl`` + the file beside it) → the rollout over HTTP → the server's
SandboxFusion ``/run_code`` with ``files`` → the bubblewrap sandbox → the exact judge. The model
answers the CSV task right only if the tool output it read held the file's content (its answer
step expects the printed total); the other row has no attachment and answers as before.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from redsearcher.env.sandbox import Sandbox, SandboxConfig, SandboxUnavailable
from redsearcher.eval import run_bench
from redsearcher.export import export_sft
from redsearcher.log import read_trajectories
from redsearcher.model import ModelConfig
from redsearcher.rollout import EndpointPool
from redsearcher.server import EnvServer, ServerConfig
from redsearcher.testing import Expect, Script, ScriptedModel, Step, text_answer, text_python_call

GAIA = Path(__file__).parents[1] / "fixtures" / "benchmarks" / "gaia-csv"
CSV_NAME = "7bd855d8-463d-4ed5-93ca-5fe35145f733.csv"
CODE = (
    "import csv\n"
    f"rows = list(csv.DictReader(open({CSV_NAME!r})))\n"
    "food = sum(int(v) for r in rows for k, v in r.items() if k not in ('Location', 'Soda'))\n"
    "print(f'{food:.2f}')"
)


def require_bubblewrap() -> None:
    """Skip without bubblewrap (fail under CI), as the sandbox tests do."""
    try:
        box = Sandbox(SandboxConfig())
        box.start()
        box.close()
    except SandboxUnavailable as err:
        if os.environ.get("CI"):
            pytest.fail(f"bubblewrap is required under CI: {err}")
        pytest.skip(f"bubblewrap unavailable: {err}")


def test_bench_gaia_gives_the_attachment_to_the_python_tool_over_http(
    tiny_index: Path, tmp_path: Path
) -> None:
    require_bubblewrap()
    csv_steps = [
        Step(content=text_python_call(CODE)),
        Step(
            content=text_answer("39619.00"),
            expect=Expect(last_message_contains="stdout:\n39619.00"),
        ),
    ]
    model = ScriptedModel(
        [Script(match="attached spreadsheet", steps=csv_steps)],
        protocol="text",
        default=Step(content=text_answer("17")),
    )
    config = ServerConfig(index=tiny_index, port=0, sandbox=SandboxConfig())
    with EnvServer(config) as server:
        result = asyncio.run(
            run_bench(
                "gaia",
                out=tmp_path / "bench",
                model=ModelConfig(name="m", base_url=model.endpoint, protocol="text"),
                file=GAIA / "metadata.jsonl",
                env_url=server.base_url,
                pool=EndpointPool({model.endpoint: model}),
            )
        )
    model.assert_all_used()
    assert result.report.summary.accuracy.value == 1.0
    runs = {t.task_id: t for t in read_trajectories(tmp_path / "bench" / "rollout")}
    csv_run = runs[CSV_NAME.removesuffix(".csv")]
    assert csv_run.tool_calls[0].output == "stdout:\n39619.00\n"
    assert [a.name for a in csv_run.attachments] == [CSV_NAME]
    assert runs["e1fc63a2-da7a-432f-be78-7c4a95598703"].attachments == []
    log = (tmp_path / "bench" / "rollout" / "trajectories.jsonl").read_text()
    assert "Pinebrook" not in log  # name, size and digest only: never the file's bytes
    # The SFT export reads the run as before; the sample shows the question with its file line.
    out = tmp_path / "sft.jsonl"
    export_sft(tmp_path / "bench" / "rollout", out, apply_filter=False)
    samples = [json.loads(line) for line in out.read_text().splitlines()]
    assert any(f"Attached file: `{CSV_NAME}`" in json.dumps(s) for s in samples)
