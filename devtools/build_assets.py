"""The dashboard's assets as browsers get them: bundled, minified, named by their content.

esbuild (pinned in package.json, installed by ``npm ci`` from package-lock.json) bundles
the sources under ``app/static`` into ``app/static/build``: one module per page group
(``app``: the customer and sign-in pages; ``admin``: the operator console, which ``app``
imports only on an /app/admin page), the code both share in one chunk, the stylesheet, and
the images the pages name (copied). Every file's name carries a hash of its content, so it
can be cached for good, and each is compressed once here at the strongest levels
(``<file>.br``, ``<file>.gz``) rather than on every request. The manifest
(``manifest.json``) maps each group (and image) to its file and the modules it imports at
once, which ``app.web.assets`` reads. ``make install`` runs this (and so ``make run``,
``make test`` and ``make wheel``, which runs it again before building).

    python -m devtools.build_assets            # build app/static/build
    python -m devtools.build_assets --check    # fail unless a fresh build gives the same files
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import brotli

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "app" / "static"
BUILD = STATIC / "build"
ESBUILD = ROOT / "node_modules" / ".bin" / "esbuild"
MANIFEST = "manifest.json"

# Page group (or stylesheet) -> its source under app/static.
ENTRIES = {
    "app": "js/app.js",
    "admin": "js/pages/admin/routes.js",
    "style": "css/app.css",
}
# Images the pages name -> their source under app/static (copied under a hashed name).
IMAGES = {
    "logo": "img/logo.svg",
    "favicon": "img/favicon.svg",
}


class BuildError(RuntimeError):
    """esbuild is missing or refused the sources."""


def _esbuild(static: Path, out: Path, metafile: Path) -> None:
    if not ESBUILD.exists():
        raise BuildError(f"{ESBUILD} is missing: run `npm ci` at {ROOT} (make install does)")
    command = [
        str(ESBUILD),
        *(f"{name}={static / source}" for name, source in ENTRIES.items()),
        "--bundle",
        "--splitting",
        "--format=esm",
        "--minify",
        "--legal-comments=none",
        "--charset=utf8",
        "--log-level=warning",
        f"--outdir={out}",
        "--entry-names=[name]-[hash]",
        "--chunk-names=[name]-[hash]",
        f"--metafile={metafile}",
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BuildError(f"esbuild failed:\n{done.stderr}")


def _path(esbuild_path: str) -> Path:
    """A path from esbuild's metafile, which names them from its working directory."""
    return (ROOT / esbuild_path).resolve()


def _manifest(meta: dict[str, Any], static: Path, out: Path) -> dict[str, Any]:
    """Each entry's file and the modules it imports statically (to preload), from esbuild's
    metafile; and every file built, the only ones served as immutable."""
    outputs = {_path(path).relative_to(out).as_posix(): info for path, info in meta.items()}
    by_source = {
        _path(info["entryPoint"]): name for name, info in outputs.items() if "entryPoint" in info
    }
    entries: dict[str, dict[str, Any]] = {}
    for logical, source in ENTRIES.items():
        file = by_source[(static / source).resolve()]
        imports = [
            _path(found["path"]).relative_to(out).as_posix()
            for found in outputs[file].get("imports", [])
            if found["kind"] == "import-statement" and not found.get("external")
        ]
        entries[logical] = {"file": file, "imports": imports}
    return {"entries": entries, "files": sorted(outputs)}


def _copy_image(source: Path, out: Path) -> str:
    """``source`` copied into ``out`` under its name and a hash of its content; that name."""
    data = source.read_bytes()
    digest = base64.b32encode(hashlib.sha256(data).digest()).decode()[:8]
    name = f"{source.stem}-{digest}{source.suffix}"
    (out / name).write_bytes(data)
    return name


def _precompress(path: Path) -> None:
    """``path.br`` and ``path.gz`` beside it, the same bytes from the same input every time
    (gzip's header would otherwise carry the time)."""
    data = path.read_bytes()
    path.with_name(f"{path.name}.br").write_bytes(brotli.compress(data, quality=11))
    path.with_name(f"{path.name}.gz").write_bytes(gzip.compress(data, 9, mtime=0))


def build_into(out: Path, static: Path = STATIC) -> dict[str, Any]:
    """Build every asset of ``static`` into the empty directory ``out``; its manifest."""
    with tempfile.TemporaryDirectory() as scratch:
        metafile = Path(scratch) / "meta.json"
        _esbuild(static, out, metafile)
        meta = json.loads(metafile.read_text())["outputs"]
        manifest = _manifest(meta, static.resolve(), out.resolve())
    for logical, source in IMAGES.items():
        name = _copy_image(static / source, out)
        manifest["entries"][logical] = {"file": name, "imports": []}
        manifest["files"] = sorted({*manifest["files"], name})
    for name in manifest["files"]:
        _precompress(out / name)
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def build() -> dict[str, Any]:
    """A fresh build in place of ``app/static/build``."""
    fresh = Path(tempfile.mkdtemp(prefix=".build-", dir=STATIC))
    try:
        manifest = build_into(fresh)
        fresh.chmod(0o755)  # mkdtemp's 0700 would hide it from a web server's own user
        shutil.rmtree(BUILD, ignore_errors=True)
        fresh.rename(BUILD)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
    return manifest


def stale_files() -> list[str]:
    """The files of ``app/static/build`` that a fresh build names or fills differently."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        build_into(out)
        fresh = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.iterdir()}
    built = {p.relative_to(BUILD).as_posix(): p.read_bytes() for p in BUILD.glob("*")}
    return sorted(
        name for name in fresh.keys() | built.keys() if fresh.get(name) != built.get(name)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with a fresh build")
    args = parser.parse_args()
    if args.check:
        stale = stale_files()
        if stale:
            sys.exit(f"{BUILD} is out of date ({', '.join(stale)}): run make install")
        print(f"{BUILD} is up to date")
        return
    manifest = build()
    for logical, entry in manifest["entries"].items():
        print(f"{logical}: {entry['file']}")


if __name__ == "__main__":
    main()
