"""Generates the gRPC code of ``regimenguard.v1`` from ``protos/``, at build time.

The generated ``*_pb2.py``, ``*_pb2.pyi`` and ``*_pb2_grpc.py`` files are never committed. This
module is the setuptools ``build_py`` step that writes them (``[tool.setuptools.cmdclass]`` in
pyproject.toml), so that ``pip install .``, a wheel and an sdist work without ``make``:

- a wheel (``pip install .``, ``pip wheel .``, ``python -m build``): into the build directory,
  beside the package's other files, so the wheel ships them;
- an editable install (``pip install -e .``, ``make install``): into ``protos/`` itself, where
  the editable install imports ``regimenguard.v1`` from.

``python tools/protoc_build.py`` regenerates them in ``protos/`` (``make proto``). It needs
grpcio-tools (a build requirement) and googleapis-common-protos (for ``google/rpc/status.proto``).
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parents[1]
PROTO_DIR = "protos"
API_PACKAGE = ("regimenguard", "v1")
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def proto_files(root: Path = ROOT) -> list[Path]:
    """The API's .proto files, relative to ``protos/`` (as protoc names them in imports)."""
    proto_root = root / PROTO_DIR
    return sorted(
        path.relative_to(proto_root) for path in proto_root.joinpath(*API_PACKAGE).glob("*.proto")
    )


def include_dirs(root: Path = ROOT) -> list[Path]:
    """protos/, googleapis-common-protos (google/rpc/*.proto) and protobuf's well-known types."""
    import google.rpc

    googleapis = Path(next(iter(google.rpc.__path__))).parents[1]
    well_known = Path(str(resources.files("grpc_tools") / "_proto"))
    return [root / PROTO_DIR, googleapis, well_known]


def generate(out_dir: Path, root: Path = ROOT) -> list[Path]:
    """Runs protoc over the API's .proto files into ``out_dir``; returns the files written."""
    from grpc_tools import protoc

    protos = proto_files(root)
    if not protos:
        raise RuntimeError(f"no .proto files under {root / PROTO_DIR / Path(*API_PACKAGE)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    arguments = [
        "grpc_tools.protoc",
        *(f"-I{directory}" for directory in include_dirs(root)),
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *(str(root / PROTO_DIR / proto) for proto in protos),
    ]
    status = protoc.main(arguments)
    if status != 0:
        raise RuntimeError(f"protoc failed (exit {status}) on {', '.join(map(str, protos))}")
    return [
        out_dir / proto.parent / f"{proto.stem}{suffix}"
        for proto in protos
        for suffix in GENERATED_SUFFIXES
    ]


class BuildPyWithProtos(build_py):
    """``build_py`` that also generates the gRPC code (see the module's docstring)."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            generate(ROOT / PROTO_DIR)
        else:
            self._generated = generate(Path(self.build_lib))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        generated = [str(path) for path in getattr(self, "_generated", [])]
        return [*super().get_outputs(include_bytecode), *generated]


if __name__ == "__main__":
    for written in generate(ROOT / PROTO_DIR):
        print(written.relative_to(ROOT))
    sys.exit(0)
