"""The chat command's terminal: reading what the user types, and showing a streamed run.

- [`LineReader`]: line editing and a persistent history through the standard ``readline`` module, multi-line input
  (a line ending in ``\\`` continues; ``\"\"\"`` opens a block until the next ``\"\"\"``).
- [`TurnPrinter`]: the answer as it streams — rendered as Markdown with ``rich`` (the ``cli`` extra) when stdout is
  a terminal, plain text otherwise; tool calls as dimmed lines, their results shortened unless ``verbose``.

Colour only on a terminal, and never with ``NO_COLOR`` set.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

__all__ = ["LineReader", "Style", "TurnPrinter", "shorten"]

#: How often a streamed Markdown answer is redrawn, at most.
REDRAW_SECONDS = 0.1
#: How much of a tool result is shown without ``--verbose``.
RESULT_PREVIEW_CHARS = 160


class Style:
    """ANSI styles, or nothing when the stream is not a terminal (or ``NO_COLOR`` is set)."""

    def __init__(self, stream: TextIO) -> None:
        self.enabled = _is_tty(stream) and not os.environ.get("NO_COLOR")

    def __call__(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.enabled else text

    def dim(self, text: str) -> str:
        return self(text, "2")

    def bold(self, text: str) -> str:
        return self(text, "1")

    def red(self, text: str) -> str:
        return self(text, "31")

    def prompt(self, text: str) -> str:
        """A readline prompt: the escape codes wrapped in \\001/\\002 so that line editing counts columns right."""
        return f"\001\033[1;36m\002{text}\001\033[0m\002" if self.enabled else text


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def shorten(text: str, limit: int = RESULT_PREVIEW_CHARS) -> str:
    """One line, at most ``limit`` characters, saying how much was left out."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return f"{flat[:limit]}… ({len(text)} chars; --verbose shows all)"


# ------------------------------------------------------------------------------------------------------- input
class LineReader:
    """``input()`` with line editing and history (when ``readline`` is available), and multi-line entries.

    ``read()`` returns the next entry (``None`` at end of input, Ctrl-D); an empty entry is skipped. Ctrl-C at the
    prompt discards the line being typed and asks again.
    """

    def __init__(self, history_file: Path | None, style: Style, *, prompt: str = "you> ") -> None:
        self.style = style
        self.prompt = prompt
        self.history_file = history_file
        self._readline: Any = None
        try:
            import readline  # line editing for input(); absent on some platforms
        except ImportError:  # pragma: no cover - Windows without pyreadline
            return
        self._readline = readline
        readline.set_history_length(1000)
        if history_file is not None:
            with contextlib.suppress(OSError):
                readline.read_history_file(history_file)

    def read(self) -> str | None:
        while True:
            try:
                first = input(self.style.prompt(self.prompt))
            except EOFError:
                return None
            except KeyboardInterrupt:
                print(file=sys.stdout)  # Ctrl-C at the prompt: drop the line, ask again
                continue
            entry = self._continued(first)
            if entry is None:
                return None
            if entry.strip():
                return entry.strip()

    def _continued(self, first: str) -> str | None:
        more = self.style.prompt("...  ")
        if first.strip() == '"""':
            lines: list[str] = []
            while True:
                try:
                    line = input(more)
                except EOFError:
                    return None
                if line.strip() == '"""':
                    return "\n".join(lines)
                lines.append(line)
        lines = [first]
        while lines[-1].endswith("\\"):
            lines[-1] = lines[-1][:-1]
            try:
                lines.append(input(more))
            except EOFError:
                break
        return "\n".join(lines)

    def save(self) -> None:
        """Write the history file (its directory is created when missing)."""
        if self._readline is None or self.history_file is None:
            return
        with contextlib.suppress(OSError):
            self.history_file.parent.mkdir(parents=True, exist_ok=True)
            self._readline.write_history_file(self.history_file)


# ------------------------------------------------------------------------------------------------------ output
class TurnPrinter:
    """Shows one streamed run: the answer as it arrives, tool calls and their results as dimmed lines.

    ``out`` gets the answer; ``notes`` gets the tool lines (the same stream on a terminal; stderr when stdout is
    piped, so that ``answer=$(mistral-agents chat "...")`` captures the answer only).
    """

    def __init__(self, out: TextIO, notes: TextIO, *, verbose: bool = False, markdown: bool | None = None) -> None:
        self.out = out
        self.notes = notes
        self.verbose = verbose
        self.tty = _is_tty(out)
        self.style = Style(notes)
        self._markdown = self.tty and _rich_available() if markdown is None else markdown
        self._text: list[str] = []
        self._live: Any = None
        self._printed = 0  # how much of the Markdown answer is printed for good
        self._drawn = 0.0  # when the answer was last drawn
        self._open = False

    def show(self, event: Any) -> None:
        from .agent import FinalResult, TextDelta, ToolCallEvent, ToolResultEvent

        if isinstance(event, TextDelta):
            self._add_text(event.text)
        elif isinstance(event, ToolCallEvent):
            self.finish_text()
            self._note(self.style.dim(f"  → {event.name}({event.arguments})"))
        elif isinstance(event, ToolResultEvent):
            content = event.outcome.content
            shown = content if self.verbose else shorten(content)
            if event.ok:
                self._note(self.style.dim(f"  ← {event.name}: {shown}"))
            else:
                self._note(self.style.red(f"  ✗ {event.name}: {shown}"))
        elif isinstance(event, FinalResult):
            output = event.result.output
            if not self._text and not self._open and output is not None:
                self._add_text(output if isinstance(output, str) else _as_text(output))
            self.finish_text()

    def _add_text(self, text: str) -> None:
        self._text.append(text)
        if self._markdown:
            self._render_live()
            return
        self._open = True
        self.out.write(text)
        self.out.flush()

    def _render_live(self) -> None:
        """Finished Markdown blocks are printed for good; only the block being written is redrawn.

        Redrawing a whole long answer would repeat it once it is taller than the terminal; a block being written
        is drawn cropped to the screen, and in full once it is finished.
        """
        from rich.console import Console
        from rich.live import Live
        from rich.markdown import Markdown

        if self._live is None:
            console = Console(file=self.out, force_terminal=True, no_color=bool(os.environ.get("NO_COLOR")))
            self._live = Live(console=console, auto_refresh=False, transient=True, vertical_overflow="crop")
            self._live.start()
            self._printed = 0
        now = time.monotonic()
        if now - self._drawn < REDRAW_SECONDS:
            return  # redrawing on every token costs more than the tokens: the next delta (or the end) draws
        self._drawn = now
        text = "".join(self._text)
        done = self._printed + finished_blocks(text[self._printed :])
        if done > self._printed:
            self._print_blocks(text[self._printed : done])
            self._printed = done
        self._live.update(Markdown(text[self._printed :]), refresh=True)

    def _print_blocks(self, markdown: str) -> None:
        from rich.markdown import Markdown

        if not markdown.strip():
            return
        if self._printed:
            self._live.console.print()  # the blank line between this block and the one printed before
        self._live.console.print(Markdown(markdown))

    def finish_text(self) -> None:
        """End the answer shown so far (before a tool line, at the end of the run, or when it is cancelled)."""
        if self._live is not None:
            from rich.markdown import Markdown

            text = "".join(self._text)
            self._live.update(Markdown(""), refresh=True)
            done = self._printed + finished_blocks(text[self._printed :])
            self._print_blocks(text[self._printed : done])  # what the last draw did not print yet
            self._printed = done
            self._print_blocks(text[self._printed :])
            self._live.stop()
            self._live = None
        elif self._open:
            self.out.write("\n")
            self.out.flush()
        self._open = False
        self._text = []

    def _note(self, line: str) -> None:
        self.notes.write(line + "\n")
        self.notes.flush()

    def error(self, message: str) -> None:
        self.finish_text()
        self._note(self.style.red(f"error: {message}"))

    def info(self, message: str) -> None:
        self._note(self.style.dim(message))


def finished_blocks(markdown: str) -> int:
    """How much of ``markdown`` is finished blocks: up to its last blank line outside a code fence."""
    end = position = 0
    fenced = False
    for line in markdown.splitlines(keepends=True):
        position += len(line)
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            fenced = not fenced
        elif not stripped and not fenced and line.endswith("\n"):
            end = position
    return end


def _rich_available() -> bool:
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def _as_text(output: Any) -> str:
    dump = getattr(output, "model_dump_json", None)
    return dump(indent=2) if callable(dump) else str(output)


@contextlib.contextmanager
def closing_events(events: Iterator[Any]) -> Iterator[Iterator[Any]]:
    """Close a run's event generator however the turn ends (an answer, an error, Ctrl-C)."""
    try:
        yield events
    finally:
        close = getattr(events, "close", None)
        if callable(close):
            close()
