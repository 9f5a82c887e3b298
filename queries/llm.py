"""The local LLM: llama-cpp-python over a GGUF file, with JSON-schema-constrained output.

Which file to load is decided by :mod:`medkg.queries.models` (a registered
model name, or any GGUF path; the CLI reads ``MEDKG_LLM_MODEL``). The chat
template comes from the GGUF metadata; ``n_gpu_layers`` offloads layers when
llama.cpp was built with GPU support.
Generation is greedy (temperature 0) so answers are reproducible.

Output is constrained by a grammar derived from a JSON schema, so a small
model cannot produce unparseable text or cite a passage that does not exist:
the citation field is an enum of the passage numbers actually shown.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medkg.errors import ModelError, ModelNotFoundError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LLMSettings:
    """Which model to load and how: a registered name or a .gguf path, context, threads, GPU layers."""

    model: str | None = None  # None: the default model of medkg.queries.models
    n_ctx: int = 4096
    n_threads: int | None = None  # None: every CPU core
    n_gpu_layers: int = 0  # > 0 offloads layers when llama.cpp was built with GPU support (-1: all)


@dataclass
class Generation:
    data: dict[str, Any]
    prompt_tokens: int
    completion_tokens: int


class LocalLLM:
    def __init__(self, model_path: Path | str, *, n_ctx: int = 4096, n_threads: int | None = None,
                 n_gpu_layers: int = 0, seed: int = 0) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise ModelNotFoundError(f"{path}: LLM model file not found")
        with open(path, "rb") as f:
            if f.read(4) != b"GGUF":
                raise ModelError(f"{path}: not a GGUF model file")
        try:
            from llama_cpp import Llama

            self.llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads or max(1, os.cpu_count() or 1),
                             n_gpu_layers=n_gpu_layers, seed=seed, verbose=False)
        except (ValueError, RuntimeError, OSError) as e:
            raise ModelError(f"{path}: llama.cpp could not load the model ({e})") from e
        self.path = path
        self.name = path.name

    def generate_json(self, system: str, user: str, schema: dict[str, Any], max_tokens: int = 512) -> Generation:
        """One chat completion whose output must match ``schema``."""
        try:
            out = self.llm.create_chat_completion(
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                response_format={"type": "json_object", "schema": schema},
                temperature=0.0, max_tokens=max_tokens,
            )
        except (ValueError, RuntimeError) as e:
            raise ModelError(f"{self.name}: generation failed ({e})") from e
        text = out["choices"][0]["message"]["content"] or ""
        usage = out.get("usage", {})
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            # the grammar guarantees JSON unless max_tokens cut it short
            raise ModelError(f"{self.name}: output was cut off before the JSON closed ({len(text)} chars)") from e
        return Generation(data=data, prompt_tokens=int(usage.get("prompt_tokens", 0)),
                          completion_tokens=int(usage.get("completion_tokens", 0)))

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False))
