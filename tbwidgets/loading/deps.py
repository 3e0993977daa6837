"""Which modules a model.py imports that cannot be found, and whether each is a file or a package.

A missing name is one of three things, and each gets different advice:
- a **package** we know (a curated import→distribution map, plus what `importlib.metadata` says of
  installed distributions): the exact `pip install` line and the advice to restart;
- a **local module** (a name like `layers`, or close to a file the source holds): "add layers.py";
- **unknown**: neither a file of the source nor a known package — we never guess `pip install <name>`,
  which could install an unrelated (or malicious) project of that name.
We never install anything ourselves: installing into a running kernel that already imported numpy
corrupts it (study §4). The user gets the exact command and the advice to restart afterwards.
"""

from __future__ import annotations

import ast
import difflib
import functools
import importlib.metadata
import importlib.util
import sys
from collections.abc import Iterable
from pathlib import Path

# Import name → PyPI distribution, for names common in model code (same name or not).
PACKAGE_NAMES: dict[str, str] = {
    **{
        n: n
        for n in (
            "einops",
            "timm",
            "transformers",
            "xformers",
            "tiktoken",
            "safetensors",
            "bitsandbytes",
            "sentencepiece",
            "lightning",
            "triton",
            "numpy",
            "scipy",
            "pandas",
            "matplotlib",
            "seaborn",
            "tqdm",
            "requests",
            "datasets",
            "tokenizers",
            "accelerate",
            "peft",
            "wandb",
            "optuna",
            "torchvision",
            "torchaudio",
            "torchtext",
            "torchmetrics",
            "jax",
            "flax",
            "optax",
            "tensorboard",
            "nltk",
            "spacy",
            "regex",
            "rich",
            "networkx",
            "sympy",
            "h5py",
            "einx",
            "jaxtyping",
            "beartype",
            "omegaconf",
            "deepspeed",
            "fairscale",
            "captum",
            "onnx",
            "onnxruntime",
            "tensorflow",
            "keras",
            "evaluate",
            "trl",
            "diffusers",
            "gradio",
            "plotly",
            "bqplot",
            "ipywidgets",
            "anywidget",
        )
    },
    "sklearn": "scikit-learn",
    "cv2": "opencv-python",
    "PIL": "pillow",
    "yaml": "pyyaml",
    "flash_attn": "flash-attn",
    "rotary_embedding_torch": "rotary-embedding-torch",
    "x_transformers": "x-transformers",
    "attr": "attrs",
    "skimage": "scikit-image",
    "bs4": "beautifulsoup4",
    "Crypto": "pycryptodome",
    "dateutil": "python-dateutil",
    "pytorch_lightning": "pytorch-lightning",
    "mamba_ssm": "mamba-ssm",
    "causal_conv1d": "causal-conv1d",
    "huggingface_hub": "huggingface-hub",
    "sentence_transformers": "sentence-transformers",
    "transformer_lens": "transformer-lens",
    "torch_geometric": "torch-geometric",
    "opt_einsum": "opt-einsum",
    "hydra": "hydra-core",
}

# Names that are almost always a file of the user's own project, never a package to install.
LOCAL_LOOKING = {
    "layers", "layer", "utils", "util", "model", "models", "modules", "module", "blocks", "block",
    "attention", "config", "configs", "components", "helpers", "common", "embeddings", "transformer",
    "encoder", "decoder", "heads", "ops", "nn_utils", "modeling", "architecture", "net", "network",
}  # fmt: skip

RESTART_NOTE = "then restart the runtime/kernel (Colab: Runtime → Restart session) and run the cell again"


def imported_modules(code: str) -> list[str]:
    """Top-level module names of every absolute import in `code`, in order of first appearance."""
    return list(dict.fromkeys(name.split(".")[0] for name in imported_dotted(code)))


def imported_dotted(code: str) -> list[str]:
    """Full dotted names of every absolute import (`mingpt.utils` for `from mingpt.utils import x`)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return list(dict.fromkeys(names))


@functools.lru_cache(maxsize=1)
def _installed_distributions() -> dict[str, list[str]]:
    try:
        return dict(importlib.metadata.packages_distributions())
    except Exception:  # noqa: BLE001 - broken metadata of one package must not break loading
        return {}


def package_for(module: str) -> str | None:
    """The pip distribution that provides `module`, or None when we do not know one."""
    if module in PACKAGE_NAMES:
        return PACKAGE_NAMES[module]
    dists = _installed_distributions().get(module)
    return dists[0] if dists else None


def is_available(module: str) -> bool:
    if module in sys.modules or module in sys.builtin_module_names:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_packages(code: str, local_names: Iterable[str] = frozenset()) -> list[dict[str, str]]:
    """`[{"module", "package"}]` for absolute imports that cannot be found and are not local files.

    `package` is "" when the name is no known distribution (then no install line is suggested).
    `module` is the dotted name as imported (`mingpt.utils`).
    """
    local = set(local_names)
    found: dict[str, dict[str, str]] = {}
    for dotted in imported_dotted(code):
        top = dotted.split(".")[0]
        if top in local or top in found or is_available(top):
            continue
        found[top] = {"module": dotted, "package": package_for(top) or ""}
    return list(found.values())


def stray_modules(code: str, local_names: Iterable[str] = frozenset()) -> list[tuple[str, str]]:
    """(module, where it was found) for imports that resolve to loose code on `sys.path`: no file of
    the source, no installed distribution, not the standard library. Such a module imports here
    (a `helpers.py` next to the notebook) but not for anyone else who opens the same source.
    """
    local = set(local_names)
    stray: dict[str, tuple[str, str]] = {}
    for dotted in imported_dotted(code):
        top = dotted.split(".")[0]
        if top in local or top in stray or top in sys.stdlib_module_names or package_for(top):
            continue
        where = _loose_origin(top)
        if where is not None:
            stray[top] = (dotted, where)
    return list(stray.values())


def _loose_origin(top: str) -> str | None:
    """The file or folder `top` imports from, when that is outside every site-packages folder."""
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin in (None, "built-in", "frozen"):
        return None
    origin = (
        spec.origin if spec.origin != "namespace" else next(iter(spec.submodule_search_locations or []), "")
    )
    if not origin or any(part in ("site-packages", "dist-packages") for part in Path(origin).parts):
        return None
    return origin


def install_line(missing: Iterable[dict[str, str]]) -> str:
    """`pip install a b` for the known packages behind `missing` (each named once)."""
    return "pip install " + " ".join(dict.fromkeys(m["package"] for m in missing if m.get("package")))


def _looks_local(top: str, files: Iterable[str]) -> str | None:
    """The file the user probably meant (`layers.py`), when the name looks like their own module."""
    stems = [f.removesuffix(".py") for f in files if f.endswith(".py")]
    close = difflib.get_close_matches(top, stems, n=1, cutoff=0.8)
    if close and close[0] != top:
        return f"{close[0]}.py"
    return f"{top}.py" if top.lower() in LOCAL_LOOKING else None


def _local_sentence(
    entry: dict[str, str], importer: str, where: str, files: Iterable[str]
) -> tuple[str, str]:
    dotted = entry["module"]
    top = dotted.split(".")[0]
    if "." in dotted and where == "gist":
        file = dotted.replace(".", "/") + ".py"
        return (
            f"{importer} imports `{dotted}`, which is neither a file of the gist nor a known package.",
            f"Gists cannot hold folders: copy what {importer} needs from {file} into a file of the gist "
            f"and import it from there, or load the model from a folder that holds {top}/.",
        )
    guess = _looks_local(top, files)
    if guess is not None:
        meant = f" (did you mean {guess}, which the {where} has?)" if guess != f"{top}.py" else ""
        return (
            f"{importer} imports `{dotted}`, which is not in the {where}{meant}: add {top}.py to it.",
            f"Add {top}.py to the {where} (its .py files are imported together with {importer}), or fix the import.",
        )
    return (
        f"{importer} imports `{dotted}`, which is neither a file of the {where} nor a known package.",
        f"If it is your code, add {top}.py to the {where}. If it is a package, find its name on PyPI "
        f"(it may differ from `{top}`), pip install it, {RESTART_NOTE}.",
    )


def missing_message(
    missing: list[dict[str, str]], importer: str = "model.py", where: str = "gist", files: Iterable[str] = ()
) -> tuple[str, str]:
    """(cause, fix) naming each missing module as a package (install line) or a file (add it)."""
    files = list(files)
    packages = [m for m in missing if m.get("package")]
    causes: list[str] = []
    fixes: list[str] = []
    if packages:
        mods = ", ".join(f"{m['module']} (pip package {m['package']})" for m in packages)
        causes.append(f"{importer} imports packages that are not installed: {mods}.")
        fixes.append(
            f"Run `{install_line(packages)}` in a cell, {RESTART_NOTE}. tbwidgets never installs packages itself."
        )
    for m in (m for m in missing if not m.get("package")):
        cause, fix = _local_sentence(m, importer, where, files)
        causes.append(cause)
        fixes.append(fix)
    return " ".join(causes), " ".join(fixes)
