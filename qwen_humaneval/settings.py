"""Where a run reads and writes, and which model it serves: one frozen object per run.

The command line builds it once from the environment (the Makefile's OUTPUT_DIR, MODEL, MODEL_PATH,
QHE_CACHE_DIR) and passes it down; nothing in the package reads those variables anywhere else, and
nothing is fixed at import, so one process can run several settings side by side (compare, bench).
"""

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .config import DEFAULT_MODEL, DEFAULT_OUTPUT_DIR, MODELS, ModelPin


@dataclass(frozen=True)
class Settings:
    output_dir: Path
    cache_dir: Path
    # the name the server answers to; a pinned model's name picks that model
    model: str = DEFAULT_MODEL
    # a GGUF of one's own instead of a pinned model (hashed and recorded)
    model_path: Path | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        environ = os.environ if environ is None else environ

        def get(name: str, default: str) -> str:
            return environ.get(name) or default

        home_cache = Path(get("XDG_CACHE_HOME", str(Path.home() / ".cache"))) / "qwen-humaneval"
        model_path = Path(environ["MODEL_PATH"]) if environ.get("MODEL_PATH") else None
        return cls(
            output_dir=Path(get("OUTPUT_DIR", str(DEFAULT_OUTPUT_DIR))),
            cache_dir=Path(get("QHE_CACHE_DIR", str(home_cache))),
            model=get("MODEL", model_path.stem if model_path else DEFAULT_MODEL),
            model_path=model_path,
        )

    def but(self, **changes) -> "Settings":
        """A copy with some fields changed (a bench's own output folder, another model)."""
        return dataclasses.replace(self, **changes)

    @property
    def pin(self) -> ModelPin | None:
        """The pinned model served (None for a GGUF of one's own, or a name no pin has)."""
        return None if self.model_path else MODELS.get(self.model)

    def model_file(self, pin: ModelPin) -> Path:
        return self.cache_dir / "models" / pin.file

    def hf_model_dir(self, name: str) -> Path:
        """Where a verified GGUF is kept as a bf16 Hugging Face model (vLLM on CPU and fine-tuning
        load it)."""
        return self.cache_dir / "hf" / f"{name}-bf16"
