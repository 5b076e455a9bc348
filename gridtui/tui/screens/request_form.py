"""RequestForm: a modal form that validates into a request or lists what is wrong.

The new-backtest form and the re-run form share this behaviour: Submit (the
button, Enter in a field or the binding) either dismisses with the request or
shows every error at once in ``#form-errors``; Cancel dismisses with None.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

RequestT = TypeVar("RequestT")


class RequestForm(ModalScreen[RequestT | None], Generic[RequestT]):
    """A form whose :meth:`validate` gives a request, or the errors to show."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: list[str] = []

    def validate(self) -> RequestT | list[str]:
        raise NotImplementedError

    def action_submit(self) -> None:
        result = self.validate()
        if isinstance(result, list):
            self.errors = result
            self.query_one("#form-errors", Static).update("\n".join(f"✖ {e}" for e in result))
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.action_cancel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()
