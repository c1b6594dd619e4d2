"""A real, tiny end-to-end GRPO run: TRL's GRPOTrainer on CPU over our environment and judge.

No weights to download: a 2-layer Qwen2 causal LM initialised from a config, and a byte-level
BPE trained offline (``redsearcher.testing.tiny_chat_tokenizer``) with the ChatML template and
TRL's Qwen3 response parser (tool calls read from the generated ids). The task set is
synthesized (``redsearcher synth``) over a small generated World, served by a real environment
server (``EnvServer``) on loopback; the environment is ``trl_environment`` and the reward is our
registered judge through ``judged_reward``.

A random-init model never writes a valid ``<tool_call>``, so a short supervised warm-up (a few
hundred Adam steps on one scripted turn per task: a search call, then an answer that is the
reference for half the samples and a wrong one for the others) stands in for the cold start;
GRPO then samples at temperature 1, so the rewards of a group differ. What the run checks:
tool calls reached the server (its request counter), rewards were computed (not all ``None``),
the loss mask covers only policy tokens (tool-result ids have mask 0), parameters changed.

    PYTHONPATH=src /work/venv-rl/bin/python benchmarks/bench_rl_tiny.py --steps 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def make_tasks(root: Path, n: int) -> tuple[Path, list[Any]]:
    from redsearcher.env import build_index
    from redsearcher.synth import SynthConfig, open_verifier, read_tasks, synthesize
    from redsearcher.testing import small_world

    world = small_world(root / "world", entities=300, seed=0)
    out = root / "tasks.jsonl"
    with open_verifier(world.path) as verifier:
        cfg = SynthConfig(n=n, seed=1, treewidth="1-", msd="1-")
        asyncio.run(synthesize(verifier, cfg, out, progress=False))
    if not (root / "world.index").exists():  # synthesis builds it
        build_index(root / "world", root / "world.index", progress=False)
    return root / "world.index", read_tasks(out)


def trl_tokenizer(vocab_size: int = 1200) -> Any:
    from trl.chat_template_utils import qwen3_template

    from redsearcher.testing import tiny_chat_tokenizer

    tok = tiny_chat_tokenizer(vocab_size=vocab_size).tokenizer
    tok.response_template = qwen3_template  # ChatML tool calls, as Qwen3's
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "left"
    return tok


def tiny_model(tok: Any, seed: int) -> Any:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(tok),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    return Qwen2ForCausalLM(config)


async def _results(env_url: str, queries: list[str]) -> list[str]:
    from redsearcher.rl.adapters import env_toolbox

    toolbox = env_toolbox(env_url, tools=["search"], num_results=2)
    try:
        return [await toolbox.search([q]) for q in queries]
    finally:
        await toolbox.aclose()


def warm_up(
    model: Any, tok: Any, rows: list[dict[str, Any]], tools: list[Any], steps: int, env_url: str
) -> float:
    """Supervised cold start on the assistant turns only (mask 0 on prompt and tool ids).

    The tool turn holds the server's real answer to the scripted query, so the answer turn is
    learned in the context the policy will see.
    """
    import torch

    results = asyncio.run(_results(env_url, [row["question"][:40] for row in rows]))
    examples = []
    for row, result in zip(rows, results, strict=True):
        call = {
            "type": "function",
            "function": {
                "name": "search",
                # a JSON string: the ChatML template writes the arguments as they are given
                "arguments": json.dumps({"query": [row["question"][:40]]}),
            },
        }
        for good in (True, False):
            answer = row["answer"] if good else "nobody"
            convo = [
                *row["prompt"],
                {"role": "assistant", "content": "", "tool_calls": [call]},
                {"role": "tool", "name": "search", "content": result},
                {"role": "assistant", "content": f"<answer>{answer}</answer>"},
            ]
            ids: list[int] = []
            labels: list[int] = []
            for k in range(len(row["prompt"]), len(convo) + 1):
                text_ids = tok.apply_chat_template(convo[:k], tools=tools, tokenize=True)
                if hasattr(text_ids, "input_ids") or isinstance(text_ids, dict):
                    text_ids = text_ids["input_ids"]
                new = list(text_ids)[len(ids) :]
                trained = k > len(row["prompt"]) and convo[k - 1]["role"] == "assistant"
                ids += new
                labels += new if trained else [-100] * len(new)
            examples.append((ids, labels))
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3)
    model.train()
    loss = torch.tensor(0.0)
    for step in range(steps):
        ids, labels = examples[step % len(examples)]
        out = model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels]))
        out.loss.backward()
        opt.step()
        opt.zero_grad()
        loss = out.loss.detach()
    return float(loss)


def run(
    out_dir: Path, *, steps: int = 2, tasks: int = 4, warmup: int = 500, seed: int = 0
) -> dict[str, Any]:
    import torch
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from redsearcher.rl.adapters import judged_reward, trl_environment, trl_rows
    from redsearcher.server import EnvServer, ServerConfig

    started = time.perf_counter()
    index, task_list = make_tasks(out_dir / "data", tasks)
    rows = trl_rows(task_list)
    tok = trl_tokenizer()
    model = tiny_model(tok, seed)

    captured: dict[str, Any] = {"envs": [], "masks": [], "rewards": []}
    with EnvServer(ServerConfig(index=index, sandbox=None)) as server:
        env_cls = trl_environment(
            server.base_url, tools=["search", "visit"], scorer="f1", num_results=2
        )
        probe = env_cls()
        tool_fns = [probe.search, probe.visit]
        warm_loss = warm_up(model, tok, rows, tool_fns, warmup, server.base_url)
        before = {k: v.detach().clone() for k, v in model.named_parameters()}

        def factory() -> Any:
            env = env_cls()
            captured["envs"].append(env)
            return env

        async def reward(completions: Any, environments: Any, **kw: Any) -> list[float | None]:
            values = await judged_reward(completions, environments, **kw)
            captured["rewards"].append(values)
            return values

        reward.__name__ = "judged_reward"
        args = GRPOConfig(
            output_dir=str(out_dir / "trl"),
            per_device_train_batch_size=4,
            num_generations=4,
            max_steps=steps,
            learning_rate=1e-3,
            max_completion_length=1024,
            temperature=1.0,
            beta=0.0,
            logging_steps=1,
            report_to=[],
            save_strategy="no",
            use_cpu=True,
            seed=seed,
            max_tool_calling_iterations=2,
            dataloader_num_workers=0,
        )
        trainer = GRPOTrainer(
            model=model,
            reward_funcs=[reward],
            args=args,
            train_dataset=Dataset.from_list(rows),
            processing_class=tok,
            environment_factory=factory,
        )
        original = trainer._generate_and_score_completions

        def spy(inputs: Any) -> Any:
            out = original(inputs)
            captured["masks"].append(
                {
                    "completion_ids": out["completion_ids"].tolist(),
                    "completion_mask": out["completion_mask"].tolist(),
                    "tool_mask": out["tool_mask"].tolist() if "tool_mask" in out else None,
                }
            )
            return out

        trainer._generate_and_score_completions = spy  # type: ignore[method-assign]
        served_before = server_requests(server.base_url)
        train = trainer.train()
        served = server_requests(server.base_url) - served_before
    after = dict(model.named_parameters())
    changed = sum(int(not torch.equal(before[k], after[k].detach())) for k in before)
    flat = [r for batch in captured["rewards"] for r in batch]
    result = {
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus",
        "optimizer_steps": int(train.global_step),
        "warmup_final_loss": round(warm_loss, 4),
        "tasks": len(rows),
        "rollouts": len(flat),
        "rewards": flat,
        "unscored": sum(r is None for r in flat),
        "server_requests_during_training": served,
        "tool_calls_per_step": [h.get("tools/call_frequency") for h in trainer.state.log_history],
        "params_changed": changed,
        "params_total": len(before),
        "train_loss": train.training_loss,
        "wall_s": round(time.perf_counter() - started, 1),
        "masks": captured["masks"],
        "first_completion": tok.decode(captured["masks"][0]["completion_ids"][0])
        if captured["masks"]
        else "",
        "log_history": trainer.state.log_history,
        "tokenizer": tok,
    }
    return result


def server_requests(base_url: str) -> int:
    """The requests the environment server answered, from its Prometheus counter."""
    import httpx

    text = httpx.get(f"{base_url}/metrics", timeout=10).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("redsearcher_env_requests_total{"):
            total += float(line.rpartition(" ")[2])
    return int(total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--tasks", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--out", type=Path, default=None)
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = run(Path(tmp), steps=ns.steps, tasks=ns.tasks, warmup=ns.warmup)
    result.pop("masks")
    result.pop("tokenizer")
    text = json.dumps(result, indent=1, default=str)
    if ns.out:
        ns.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
