"""Small, fast stardag DAGs used by the SDK build tests.

Every task writes a tiny JSON output under the test's target root. ``salt`` is part of every
task's parameters so each test gets its own task ids.
"""

from __future__ import annotations

from typing import Any

import stardag as sd
from stardag import AutoTask, TaskLoads
from stardag.registry_asset import JSONRegistryAsset, MarkdownRegistryAsset

sd.auto_namespace(__name__)


class Number(AutoTask[int]):
    """A leaf: emits its parameter."""

    salt: str
    value: int

    def run(self) -> None:
        self.output().save(self.value)


class Scale(AutoTask[int]):
    """One dependency, one parameter."""

    source: TaskLoads[int]
    factor: int

    def requires(self) -> Any:
        return self.source

    def run(self) -> None:
        self.output().save(self.source.output().load() * self.factor)


class Total(AutoTask[int]):
    """Fan-in of several dependencies."""

    parts: tuple[TaskLoads[int], ...]

    def requires(self) -> Any:
        return self.parts

    def run(self) -> None:
        self.output().save(sum(part.output().load() for part in self.parts))


class Report(AutoTask[int]):
    """Writes registry assets: a markdown report and a JSON summary."""

    total: TaskLoads[int]
    title: str

    def requires(self) -> Any:
        return self.total

    def run(self) -> None:
        self.output().save(self.total.output().load())

    def registry_assets(self) -> list[Any]:
        value = self.output().load()
        return [
            MarkdownRegistryAsset(name="summary", body=f"# {self.title}\n\nTotal: **{value}**"),
            JSONRegistryAsset(name="metrics", body={"total": value, "title": self.title}),
        ]


class Explode(AutoTask[int]):
    """Always fails."""

    source: TaskLoads[int]

    def requires(self) -> Any:
        return self.source

    def run(self) -> None:
        raise ValueError(f"cannot handle {self.source.output().load()}")


class Discover(AutoTask[int]):
    """Dynamic dependencies: decides at run time which inputs it needs (suspend/resume)."""

    salt: str
    count: int

    def run(self) -> Any:
        inputs = [Number(salt=self.salt, value=100 + i) for i in range(self.count)]
        yield inputs
        self.output().save(sum(task.output().load() for task in inputs))


def report_dag(salt: str) -> Report:
    """11 tasks: 4 numbers, 4 scaled numbers, a shared number scaled twice, a total, a report.

    Number(0..3) -> Scale(x2) -> Total -> Report, plus Number(0) -> Scale(x3) -> Total, so one
    number feeds two scale tasks.
    """
    numbers = [Number(salt=salt, value=value) for value in range(4)]
    scaled = [Scale(source=number, factor=2) for number in numbers]
    extra = Scale(source=numbers[0], factor=3)
    total = Total(parts=(*scaled, extra))
    return Report(total=total, title=f"Report {salt}")


def failing_dag(salt: str) -> Total:
    """Number -> Explode -> Total(Explode, Number(1)); Number(1) is independent."""
    number = Number(salt=salt, value=7)
    return Total(parts=(Explode(source=number), Number(salt=salt, value=1)))


def all_tasks(*roots: Any) -> dict[str, Any]:
    """Every task of the static DAGs by id (string), roots included."""
    found: dict[str, Any] = {}

    def visit(task: Any) -> None:
        if str(task.id) in found:
            return
        found[str(task.id)] = task
        for dep in sd.flatten_task_struct(task.requires()):
            visit(dep)

    for root in roots:
        visit(root)
    return found


def static_edges(root: Any) -> set[tuple[str, str]]:
    """(dependency id, dependent id) pairs of a static DAG."""
    return {(str(dep.id), task_id) for task_id, task in all_tasks(root).items()
            for dep in sd.flatten_task_struct(task.requires())}
