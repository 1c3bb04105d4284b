"""Rich progress bars that show rows and rows/s: loads are long and users want the rate."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text


class RowsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} rows/s" if speed else "", style="progress.data.speed")


class RowProgress:
    """A context manager around rich.Progress; disabled, it costs nothing and prints nothing."""

    def __init__(self, enabled: bool = True, console: Console | None = None) -> None:
        self.enabled = enabled
        self._progress = Progress(
            TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
            RowsPerSecond(), TimeElapsedColumn(), console=console or Console(stderr=True),
            disable=not enabled, transient=False)

    def __enter__(self) -> RowProgress:
        self._progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._progress.stop()

    def task(self, description: str, total: int | None = None) -> TaskID:
        return self._progress.add_task(description, total=total)

    def advance(self, task: TaskID, rows: int) -> None:
        self._progress.advance(task, rows)
