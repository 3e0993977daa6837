"""The Train view's settings form, generated from `TrainingConfig`'s fields and their metadata.

Every field gets an input with its default and its one-line help; "essential" fields are visible,
the rest fold under an "Advanced" ToggleButton (a VBox whose `layout.display` it switches: Colab
breaks `ipywidgets.Accordion`). Each edit re-validates the whole config with `problems_by_field()`
and shows every problem under its input, so a bad value is seen before anything runs.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets

HIDDEN = frozenset({"created_at", "config_version"})  # bookkeeping set by tbwidgets itself
_LABEL_W, _INPUT_W = "190px", "170px"


class FieldRow:
    """One config field: label, input, help text and its problem line."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.name: str = info["name"]
        self.type: str = str(info.get("type", ""))
        self.default = info.get("default")
        choices = info.get("choices")
        layout = ipywidgets.Layout(width=_INPUT_W, flex="0 0 auto")  # a long help text must not squeeze it
        if choices:
            self.input: Any = ipywidgets.Dropdown(options=[str(c) for c in choices], layout=layout)
        elif self.type == "bool":
            self.input = ipywidgets.Checkbox(indent=False, layout=layout)
        else:
            self.input = ipywidgets.Text(layout=layout, continuous_update=False)
        self.set(self.default)
        default = "empty" if self.default in (None, "") else html.escape(str(self.default))
        help_text = html.escape(str(info.get("help", "")))
        self.help = ipywidgets.HTML(f"<span style='color:#666'>{help_text} <i>Default: {default}.</i></span>")
        self.problem = ipywidgets.HTML("", layout=ipywidgets.Layout(display="none"))
        label = ipywidgets.Label(
            self.name.replace("_", " "), layout=ipywidgets.Layout(width=_LABEL_W, flex="0 0 auto")
        )
        self.box = ipywidgets.VBox([ipywidgets.HBox([label, self.input, self.help]), self.problem])

    def set(self, value: Any) -> None:
        """Show `value` in the input (None as an empty box)."""
        if isinstance(self.input, ipywidgets.Checkbox):
            self.input.value = bool(value)
        elif isinstance(self.input, ipywidgets.Dropdown):
            self.input.value = str(value)
        else:
            self.input.value = "" if value is None else str(value)

    def parse(self) -> Any:
        """The typed value; raises ValueError with a message for the user."""
        raw = self.input.value
        if not isinstance(raw, str):
            return raw
        text = raw.strip()
        if isinstance(self.input, ipywidgets.Dropdown):
            return _coerce(text, self.default)
        if text == "" and "None" in self.type:
            return None
        if self.type.startswith("int | str"):
            return int(text) if text.lstrip("-").isdigit() else text
        for kind, cast in (("int", int), ("float", float)):
            if self.type.startswith(kind):
                try:
                    return cast(text)
                except ValueError:
                    word = "a whole number" if kind == "int" else "a number"
                    raise ValueError(
                        f"{text!r} is not {word}" + (" (empty for none)" if "None" in self.type else "")
                    ) from None
        return text

    def show_problem(self, message: str) -> None:
        self.problem.value = f"<span style='color:#b00020'>⚠ {html.escape(message)}</span>" if message else ""
        self.problem.layout.display = "" if message else "none"


def _coerce(text: str, default: Any) -> Any:
    # dropdown choices are shown as text; give the dataclass back the type its default has
    if isinstance(default, bool):
        return text == "True"
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            return text
    return text


class TrainForm:
    """Inputs for every visible `TrainingConfig` field; `config()` returns (config or None, problems)."""

    def __init__(self, config_cls: Any, on_change: Callable[[], None] | None = None) -> None:
        self.config_cls = config_cls
        infos = [i for i in config_cls.fields_info() if i["name"] not in HIDDEN]
        self.rows = {info["name"]: FieldRow(info) for info in infos}
        essential = [r.box for n, r in self.rows.items() if _level(infos, n) == "essential"]
        advanced = [r.box for n, r in self.rows.items() if _level(infos, n) != "essential"]
        self.advanced = ipywidgets.VBox(advanced, layout=ipywidgets.Layout(display="none"))
        self.toggle = ipywidgets.ToggleButton(
            value=False, description=f"Advanced ({len(advanced)})", icon="caret-right",
            tooltip="Show every other setting, each with its default",
        )  # fmt: skip
        self.toggle.observe(self._fold, names="value")
        self.summary = ipywidgets.HTML("")
        self.box = ipywidgets.VBox([*essential, self.toggle, self.advanced, self.summary])
        self._on_change = on_change
        for row in self.rows.values():
            row.input.observe(lambda _change: self.check(), names="value")
        self.check()

    def _fold(self, change: Any) -> None:
        self.advanced.layout.display = "" if change["new"] else "none"
        self.toggle.icon = "caret-down" if change["new"] else "caret-right"

    def set_config(self, config: Any) -> None:
        """Fill the inputs from a TrainingConfig (what `.train(config=...)` was given)."""
        values = config.to_dict()
        for name, row in self.rows.items():
            if name in values:
                row.set(values[name])
        self.check()

    def config(self) -> tuple[Any, list[tuple[str, str]]]:
        """(TrainingConfig, []) when every value parses and validates, else (None or it, problems)."""
        values, problems = {}, []
        for name, row in self.rows.items():
            try:
                values[name] = row.parse()
            except ValueError as exc:
                problems.append((name, str(exc)))
        if problems:
            return None, problems
        try:
            config = self.config_cls(**values)
        except (TypeError, ValueError) as exc:
            return None, [("", str(exc))]
        return config, list(config.problems_by_field())

    def check(self) -> list[tuple[str, str]]:
        """Validate now and show every problem inline; returns them."""
        _config, problems = self.config()
        per_field: dict[str, list[str]] = {}
        loose = []
        for name, message in problems:
            if name in self.rows:
                per_field.setdefault(name, []).append(message)
            else:
                loose.append(f"{name}: {message}" if name else message)
        for name, row in self.rows.items():
            row.show_problem("; ".join(per_field.get(name, [])))
        if any(n in per_field for n in self._advanced_names()) and not self.toggle.value:
            self.toggle.value = True  # a problem hidden under a fold would block Train without a reason
        text = "".join(f"<div style='color:#b00020'>⚠ {html.escape(p)}</div>" for p in loose)
        self.summary.value = text
        if self._on_change is not None:
            self._on_change()
        return problems

    def _advanced_names(self) -> list[str]:
        shown = set(self.advanced.children)
        return [n for n, r in self.rows.items() if r.box in shown]


def _level(infos: list[dict[str, Any]], name: str) -> str:
    return next((str(i.get("level") or "") for i in infos if i["name"] == name), "")
