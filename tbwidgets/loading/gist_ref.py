"""Gist ids, URLs and revisions: turn what a user pastes into (id, revision).

Accepted: a 32-hex id, a 20-hex or numeric id (older gists), and gist page, API, raw and embed
(`<id>.js`) URLs, with or without scheme, user, `#file-…` anchor, `.git` suffix or a revision sha in
the path. An empty text is an `EmptySourceError` (usually an unset $GIST_ID); any other text or URL
is refused by name, unmangled.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from tbwidgets.loading import gist_messages as msg

RAW_GIST_HOST = "gist.githubusercontent.com"
_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")
_HEX20 = re.compile(r"^[0-9a-fA-F]{20}$")  # gists from about 2012-2014
_NUMERIC = re.compile(r"^[0-9]{1,12}$")  # the oldest gists
REVISION = re.compile(r"^[0-9a-fA-F]{7,40}$")
_GIST_HOSTS = {"gist.github.com", "www.gist.github.com", RAW_GIST_HOST}


def _id_kind(segment: str) -> int:
    """0 for a current id, 1 for a 20-hex id, 2 for a numeric id, 3 for anything else."""
    for rank, pattern in enumerate((_HEX32, _HEX20, _NUMERIC)):
        if pattern.match(segment):
            return rank
    return 3


def parse_gist_ref(text: str) -> tuple[str, str | None]:
    """Gist id and the revision named in a URL (or None) from an id or any gist/API URL."""
    raw = (text or "").strip()
    if not raw:
        raise msg.empty_source("gist id", text or "")
    if _id_kind(raw) < 3:
        return raw.lower(), None
    url = raw if "://" in raw else f"https://{raw}"
    parts = urlsplit(url)
    segments = [s.removesuffix(".git").removesuffix(".js") for s in parts.path.split("/") if s]
    if "gists" in segments:  # API URL: {api}/gists/{id}[/{sha}]
        i = segments.index("gists")
        rest = segments[i + 1 : i + 3]
        if rest and _id_kind(rest[0]) < 3:
            rev = rest[1] if len(rest) > 1 and REVISION.match(rest[1]) else None
            return rest[0].lower(), rev.lower() if rev else None
    elif (parts.hostname or "").lower() in _GIST_HOSTS:
        # /{user}/{id}[/{sha}] or /{id}: a user name may look numeric, so prefer the strongest id form.
        ranked = sorted((_id_kind(s), i) for i, s in enumerate(segments[:3]))
        if ranked and ranked[0][0] < 3:
            i = ranked[0][1]
            after = segments[i + 1] if i + 1 < len(segments) else ""
            is_rev = parts.hostname != RAW_GIST_HOST and len(after) == 40 and REVISION.match(after)
            return segments[i].lower(), after.lower() if is_rev else None
    raise msg.bad_reference(raw)


def parse_gist_id(text: str) -> str:
    """The gist id in `text`: a 32-hex id, an old numeric id, or a gist / API / raw URL."""
    return parse_gist_ref(text)[0]
