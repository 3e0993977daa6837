"""Areas composed under the validator's shell: boxes that follow its tab, and the Tier 2 explorer.

Colab's widget manager breaks `ipywidgets.Tab`, `Accordion` and `Output`, so the tab strip is drawn by
the validator's front end, and widgets that belong to a tab live in a plain VBox below the shell whose
`layout.display` follows the synced `active_tab` trait. VBox/HBox work with ipywidgets 7 and 8.
"""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def tab_box(owner: Any, tab: str, children: tuple[Any, ...] = ()) -> Any:
    """A VBox of `children` shown only while `owner.active_tab == tab`."""
    box = ipywidgets.VBox(list(children), layout=ipywidgets.Layout(width="100%"))

    def follow(change: Any = None) -> None:
        box.layout.display = "" if owner.active_tab == tab else "none"

    owner.observe(follow, names="active_tab")
    follow()
    return box


class Tier2Area:
    """The Tier 2 tab's AttentionExplorer, in a VBox under the shell.

    `show(report, loaded)` and `clear()` are called from the validator's worker thread only, one job
    at a time, so the explorer and the box's `children` have a single writer. Creating the explorer
    there is safe for the same reason the validator's coalesced trait syncs are: ipykernel sends comm
    messages from any thread through its IOPub thread, in order, so the front end receives the
    explorer (comm_open, then its state) before the box's `children` update that refers to it.
    """

    def __init__(self, owner: Any) -> None:
        self.box = tab_box(owner, "tier2")
        self._lock = threading.Lock()  # guards _explorer for readers on other threads
        self._explorer: Any = None

    @property
    def explorer(self) -> Any:
        with self._lock:
            return self._explorer

    def show(self, report: Any, loaded: Any) -> str:
        """Build the explorer from a finished Tier 2 report (its captured maps, no recomputation).

        `loaded` lets the attribution view recompute Integrated Gradients for other targets. A report
        without attention maps (stopped early, checks chosen by hand) removes the old explorer, whose
        maps would no longer match the rows above it. Returns a problem to show, or "".
        """
        from tbwidgets.widgets.explorer import AttentionExplorer

        if not _has_maps(report):
            self.clear()
            return ""
        try:
            explorer = AttentionExplorer.from_report(report, source=loaded, attribute=False)
        except Exception as exc:  # noqa: BLE001 - the Tier 2 rows stay; the problem is shown as a notice
            self.clear()
            return f"The attention explorer could not be built: {type(exc).__name__}: {exc}"
        explorer.layout.width = "100%"
        explorer.layout.margin = "8px 0 0 0"  # a gap between the shell's export bar and the explorer
        self._replace(explorer)
        return ""

    def clear(self) -> None:
        """Remove the explorer (another model was loaded, or the new run captured no maps)."""
        self._replace(None)

    def _replace(self, explorer: Any) -> None:
        with self._lock:
            old, self._explorer = self._explorer, explorer
        self.box.children = (explorer,) if explorer is not None else ()
        if old is not None:
            old.close()  # frees its comm and its quantised maps in the kernel


def _has_maps(report: Any) -> bool:
    for result in getattr(report, "results", None) or []:
        if str(result.check_id) == "tier2.attention_patterns":
            return "maps" in (result.artifacts or {})
    return False


class ComposedDisplayMixin:
    """Displaying the widget shows its `_view` box (shell + areas); text/plain stays `repr(self)`.

    nbval and text-only front ends compare text/plain, so it must be the widget's stable repr, not
    the box's. Mixed in before `anywidget.AnyWidget`, whose bundle carries Colab's widget-manager
    metadata.
    """

    _view: Any

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        bundle = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        data = {**data, WIDGET_MIME: {**data[WIDGET_MIME], "model_id": self._view.model_id}}
        return data, metadata

    # ipywidgets 7 (Colab) displays widgets through this hook, which IPython prefers to the bundle;
    # ipywidgets 8 has no such hook, and adding one would turn the cell's result into display_data
    if hasattr(ipywidgets.Widget, "_ipython_display_"):

        def _ipython_display_(self, **kwargs: Any) -> None:
            from IPython.display import display

            data, metadata = self._repr_mimebundle_()
            display(data, metadata=metadata, raw=True)
