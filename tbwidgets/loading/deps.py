"""Which packages a model.py imports that this Python cannot find, and the pip line that installs them.

We never install anything ourselves: installing into a running kernel that already imported numpy
corrupts it (study §4). The user gets the exact command and the advice to restart afterwards.
"""

from __future__ import annotations

import ast
import importlib.util
import sys

# Import name → distribution name where they differ, or where the name is common in model code.
PACKAGE_NAMES: dict[str, str] = {
    "einops": "einops",
    "timm": "timm",
    "transformers": "transformers",
    "xformers": "xformers",
    "tiktoken": "tiktoken",
    "safetensors": "safetensors",
    "sklearn": "scikit-learn",
    "cv2": "opencv-python",
    "PIL": "pillow",
    "yaml": "pyyaml",
    "flash_attn": "flash-attn",
    "rotary_embedding_torch": "rotary-embedding-torch",
    "x_transformers": "x-transformers",
    "bitsandbytes": "bitsandbytes",
    "sentencepiece": "sentencepiece",
    "attr": "attrs",
    "skimage": "scikit-image",
    "bs4": "beautifulsoup4",
    "Crypto": "pycryptodome",
    "dateutil": "python-dateutil",
    "lightning": "lightning",
    "pytorch_lightning": "pytorch-lightning",
    "mamba_ssm": "mamba-ssm",
    "triton": "triton",
}

RESTART_NOTE = "then restart the runtime/kernel (Colab: Runtime → Restart session) and run the cell again"


def imported_modules(code: str) -> list[str]:
    """Top-level module names of every absolute import in `code`, in order of first appearance."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module.split(".")[0])
    return list(dict.fromkeys(names))


def package_for(module: str) -> str:
    """The pip distribution that provides `module` (the module name itself when unknown)."""
    return PACKAGE_NAMES.get(module, module.replace("_", "-"))


def is_available(module: str) -> bool:
    if module in sys.modules or module in sys.builtin_module_names:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_packages(code: str, local_names: set[str] | frozenset[str] = frozenset()) -> list[dict[str, str]]:
    """`[{"module", "package"}]` for imports that cannot be found; `local_names` are sibling files."""
    return [
        {"module": name, "package": package_for(name)}
        for name in imported_modules(code)
        if name not in local_names and not is_available(name)
    ]


def install_line(missing: list[dict[str, str]]) -> str:
    """`pip install a b` for the packages behind `missing` (each named once)."""
    return "pip install " + " ".join(dict.fromkeys(m["package"] for m in missing))


def missing_message(missing: list[dict[str, str]]) -> tuple[str, str]:
    """(cause, fix) texts naming the modules, their pip packages, the exact command and the restart."""
    mods = ", ".join(f"{m['module']} (pip package {m['package']})" for m in missing)
    cause = f"model.py imports packages that are not installed: {mods}."
    fix = (
        f"Run `{install_line(missing)}` in a cell, {RESTART_NOTE}. tbwidgets never installs packages itself."
    )
    return cause, fix
