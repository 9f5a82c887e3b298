"""The local LLM: llama-cpp-python over a GGUF file, with JSON-schema-constrained output.

Which file to load is decided by :mod:`medkg.queries.models` (a registered
model name, or any GGUF path; the CLI reads ``MEDKG_LLM_MODEL``). The chat
template comes from the GGUF metadata; ``n_gpu_layers`` offloads layers when
llama.cpp was built with GPU support.
Generation is greedy (temperature 0) so answers are reproducible.

Two ways to get an answer out of the model:

- :meth:`LocalLLM.generate_json`, one chat completion whose output must match a
  JSON schema (free-text questions);
- :meth:`LocalLLM.option_logprobs` + :meth:`LocalLLM.continue_with_grammar`, for
  questions with a fixed set of options: the prompt is rendered with the GGUF's
  own chat template, evaluated once, and each option is scored by its
  log-likelihood as the value of ``"answer"``; the output then continues from
  the chosen option under a small grammar (the citations). Evaluating the
  prompt dominates the cost on a CPU, so everything after it reuses the KV
  cache: the tokens shared with the previous call (the system prompt, the
  passages) are not evaluated again.

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

import numpy as np

from medkg.errors import ModelError, ModelNotFoundError, OutputCutOffError

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
    """A constrained generation's parsed output and its token counts."""

    data: dict[str, Any]
    prompt_tokens: int
    completion_tokens: int


class LocalLLM:
    """A GGUF model run locally by llama-cpp-python: JSON-schema generation, option scoring, grammars."""

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
        self._formatter = _chat_formatter(self.llm)

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
        reply: Any = out  # not streamed: one response object
        text = reply["choices"][0]["message"]["content"] or ""
        usage = reply.get("usage", {})
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            # the grammar guarantees JSON unless max_tokens cut it short
            raise OutputCutOffError(
                f"{self.name}: output was cut off before the JSON closed ({len(text)} chars)") from e
        return Generation(data=data, prompt_tokens=int(usage.get("prompt_tokens", 0)),
                          completion_tokens=int(usage.get("completion_tokens", 0)))

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False))

    # -- prompt-level access: option scoring and constrained continuation ----------
    @property
    def can_score(self) -> bool:
        """True when the GGUF carries a chat template, so prompts can be rendered exactly as chat does."""
        return self._formatter is not None

    def chat_tokens(self, system: str, user: str, assistant_prefix: str = "") -> list[int]:
        """The prompt tokens of a chat turn, as create_chat_completion would build them, plus a reply prefix."""
        if self._formatter is None:
            raise ModelError(f"{self.name}: the model file has no chat template")
        r = self._formatter(messages=[{"role": "system", "content": system}, {"role": "user", "content": user}])
        return self.llm.tokenize((r.prompt + assistant_prefix).encode("utf-8"), add_bos=not r.added_special,
                                 special=True)

    def option_logprobs(self, prompt: list[int], options: list[str], suffix: str = "") -> list[float]:
        """Log-probability of each option (its tokens, then ``suffix``) as the continuation of ``prompt``.

        When every option is one token of its own (yes/no/maybe in most vocabularies), the first-token
        distribution decides alone and the suffix, which only tells "no" from "none", is not evaluated.
        """
        bare = [self.llm.tokenize(o.encode("utf-8"), add_bos=False, special=False) for o in options]
        single = all(len(t) == 1 for t in bare) and len({t[0] for t in bare}) == len(bare)
        try:
            self._eval_from_cache(prompt)
            first = _log_softmax(self._last_logits())
            if single:
                return [float(first[t[0]]) for t in bare]
            scores = []
            for opt in options:
                toks = self.llm.tokenize((opt + suffix).encode("utf-8"), add_bos=False, special=False)
                total = float(first[toks[0]])
                if len(toks) > 1:
                    self.llm.n_tokens = len(prompt)  # rewind: eval() drops the KV cells after it
                    for prev, tok in zip(toks, toks[1:]):
                        self.llm.eval([prev])
                        total += float(_log_softmax(self._last_logits())[tok])
                scores.append(total)
        except (ValueError, RuntimeError) as e:
            raise ModelError(f"{self.name}: scoring the options failed ({e})") from e
        return scores

    def continue_with_grammar(self, prompt: list[int], gbnf: str, max_tokens: int = 16) -> Generation:
        """Greedy continuation of ``prompt`` (tokens) that must match the GBNF grammar."""
        from llama_cpp import LlamaGrammar

        try:
            out = self.llm.create_completion(prompt=prompt, grammar=LlamaGrammar.from_string(gbnf, verbose=False),
                                             temperature=0.0, max_tokens=max_tokens)
        except (ValueError, RuntimeError) as e:
            raise ModelError(f"{self.name}: generation failed ({e})") from e
        reply: Any = out  # not streamed: one response object
        usage = reply.get("usage", {})
        return Generation(data={"text": reply["choices"][0]["text"]}, prompt_tokens=int(usage.get("prompt_tokens", 0)),
                          completion_tokens=int(usage.get("completion_tokens", 0)))

    def _eval_from_cache(self, tokens: list[int]) -> None:
        """Evaluate ``tokens``, reusing the KV cache of the longest prefix shared with what was evaluated last."""
        cached = self.llm.input_ids[: self.llm.n_tokens]
        common = 0
        for a, b in zip(cached, tokens):
            if a != b:
                break
            common += 1
        self.llm.n_tokens = min(common, len(tokens) - 1)  # at least one token is evaluated, for fresh logits
        self.llm.eval(tokens[self.llm.n_tokens :])

    def _last_logits(self) -> np.ndarray:
        import llama_cpp

        ptr = llama_cpp.llama_get_logits_ith(self.llm.ctx, -1)
        return np.ctypeslib.as_array(ptr, shape=(self.llm.n_vocab(),)).astype(np.float64)


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    return logits - np.logaddexp.reduce(logits)


def _chat_formatter(llm: Any) -> Any:
    """A formatter for the chat template in the GGUF metadata (None when the file has none)."""
    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        return None
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def text(token: int) -> str:
        return llm.detokenize([token], special=True).decode("utf-8", "replace") if token != -1 else ""

    return Jinja2ChatFormatter(template=template, eos_token=text(llm.token_eos()), bos_token=text(llm.token_bos()))
