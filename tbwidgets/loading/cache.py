"""On-disk cache of fetched gists, keyed by gist id and revision, so a re-run works offline.

Layout: ``{root}/{gist_id}/{revision}.json`` holds ``{"files": {name: text}, "provenance": {...}}`` and
``{root}/{gist_id}/latest.json`` names the revision seen last when the gist was fetched unpinned.
Every write goes to a temporary file in the same folder and is renamed into place, so a crash or a
second process never leaves a half-written entry. Nothing secret is stored: provenance holds no token.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tbwidgets.loading.model import Provenance

log = logging.getLogger(__name__)

_SAFE_KEY = re.compile(r"^[0-9A-Za-z]{1,64}$")  # ids and revision shas; anything else is never a path


def default_cache_dir() -> Path:
    """`$TBWIDGETS_CACHE_DIR`, else `$XDG_CACHE_HOME/tbwidgets/gists`, else `~/.cache/tbwidgets/gists`."""
    explicit = os.environ.get("TBWIDGETS_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "tbwidgets" / "gists"


@dataclass(frozen=True)
class CachedGist:
    """One cached revision: file texts and the provenance recorded when it was fetched."""

    files: dict[str, str]
    provenance: Provenance
    description: str = ""


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` so readers see either the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class GistCache:
    """Reads and writes cached gist revisions under `root` (see the module docstring for the layout)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_cache_dir()

    def _entry(self, gist_id: str, revision: str) -> Path | None:
        if not (_SAFE_KEY.match(gist_id) and _SAFE_KEY.match(revision)):
            return None
        return self.root / gist_id / f"{revision}.json"

    def load(self, gist_id: str, revision: str) -> CachedGist | None:
        """The cached revision, or None when absent or unreadable (a broken entry is just a miss)."""
        path = self._entry(gist_id, revision)
        if path is None or not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            files = {str(k): str(v) for k, v in data["files"].items()}
            prov = Provenance(**{**data["provenance"], "from_cache": True})
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("Ignoring unreadable gist cache entry %s: %s", path, exc)
            return None
        return CachedGist(files=files, provenance=prov, description=str(data.get("description", "")))

    def latest_revision(self, gist_id: str) -> str | None:
        """The revision last fetched unpinned, else the most recently fetched cached one."""
        folder = self.root / gist_id
        if not _SAFE_KEY.match(gist_id) or not folder.is_dir():
            return None
        try:
            pointer = json.loads((folder / "latest.json").read_text(encoding="utf-8"))
            revision = str(pointer["revision"])
            if self._entry(gist_id, revision) and (folder / f"{revision}.json").is_file():
                return revision
        except (OSError, ValueError, KeyError, TypeError):
            pass  # no pointer yet: fall back to the newest file
        entries = [p for p in folder.glob("*.json") if p.name != "latest.json"]
        if not entries:
            return None
        return max(entries, key=lambda p: p.stat().st_mtime).stem

    def load_latest(self, gist_id: str) -> CachedGist | None:
        """The newest cached revision of `gist_id`, or None."""
        revision = self.latest_revision(gist_id)
        return self.load(gist_id, revision) if revision else None

    def save(
        self, files: dict[str, str], provenance: Provenance, *, latest: bool, description: str = ""
    ) -> bool:
        """Store one revision; `latest` also points `latest.json` at it. False when it could not write.

        A cache that cannot be written (read-only home, full disk) must not fail the fetch itself.
        """
        gist_id, revision = provenance.gist_id or "", provenance.revision or ""
        path = self._entry(gist_id, revision)
        if path is None:
            return False
        prov: dict[str, Any] = asdict(provenance)
        prov["files"] = dict(provenance.files)
        prov["from_cache"] = False
        try:
            atomic_write_text(
                path, json.dumps({"files": files, "provenance": prov, "description": description}, indent=1)
            )
            if latest:
                atomic_write_text(path.parent / "latest.json", json.dumps({"revision": revision}))
        except OSError as exc:
            log.warning("Could not write the gist cache under %s: %s", self.root, exc)
            return False
        return True
