"""Models shipped with the package: the built-in example and a Transformer-Builder-style gist."""

from pathlib import Path

TB_GIST_DIR = Path(__file__).parent / "tb_gist"
