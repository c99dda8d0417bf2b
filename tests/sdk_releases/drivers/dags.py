"""The DAGs the release drivers build; written against the API every release from 0.2.1 to
0.26.0 shares (``AutoTask`` was renamed ``Task`` in 0.10, ``output()`` became ``target()``).

Run only inside a release's own virtual environment, never imported by the test process.
Every task has a ``salt`` so each test gets its own task ids.
"""

from __future__ import annotations

import os
from typing import Any

import stardag as sd
from stardag.artifact import JSONArtifact, MarkdownArtifact

Base: Any = getattr(sd, "AutoTask", None) or sd.Task
NOTES = "n" * 3000  # a 3 KB parameter: every registration body carrying it is gzipped (≥0.10)
FAIL_FLAG = "SDK_RELEASE_TEST_FAIL"  # set: Explode raises; unset: it succeeds (for resume)

sd.auto_namespace("releases")


def target(task: Any) -> Any:
    """The task's output target under either spelling."""
    return task.target() if hasattr(task, "target") else task.output()


class Number(Base[int]):
    salt: str
    value: int

    def run(self) -> None:
        target(self).save(self.value)


class Scale(Base[int]):
    source: sd.TaskLoads[int]
    factor: int

    def requires(self) -> Any:
        return self.source

    def run(self) -> None:
        target(self).save(target(self.source).load() * self.factor)


class Discover(Base[int]):
    """Dynamic dependencies: decides at run time which inputs it needs."""

    salt: str

    def run(self) -> Any:
        inputs = [Number(salt=self.salt, value=100), Number(salt=self.salt, value=101)]
        yield inputs
        target(self).save(sum(target(task).load() for task in inputs))


class Total(Base[int]):
    parts: tuple[sd.TaskLoads[int], ...]

    def requires(self) -> Any:
        return self.parts

    def run(self) -> None:
        target(self).save(sum(target(part).load() for part in self.parts))


class Report(Base[int]):
    """Root: a markdown and a JSON artifact, and the 3 KB parameter."""

    total: sd.TaskLoads[int]
    title: str
    notes: str = NOTES

    def requires(self) -> Any:
        return self.total

    def run(self) -> None:
        target(self).save(target(self.total).load())

    def artifacts(self) -> list[Any]:
        value = target(self).load()
        return [
            MarkdownArtifact(name="summary", body=f"# {self.title}\n\nTotal: **{value}**"),
            JSONArtifact(name="metrics", body={"total": value, "title": self.title}),
        ]


class Explode(Base[int]):
    source: sd.TaskLoads[int]

    def requires(self) -> Any:
        return self.source

    def run(self) -> None:
        if os.environ.get(FAIL_FLAG):
            raise RuntimeError(f"boom at {target(self.source).load()}")
        target(self).save(target(self.source).load())


def report_dag(salt: str) -> Report:
    """9 tasks, 2 of them dynamic: Number(1), Number(2) -> Scale -> Total <- Discover
    (-> Number(100), Number(101) at run time); Total -> Report."""
    scaled = (Scale(source=Number(salt=salt, value=1), factor=2),
              Scale(source=Number(salt=salt, value=2), factor=3))
    total = Total(parts=(*scaled, Discover(salt=salt)))
    return Report(total=total, title=f"Report {salt}")


def failing_dag(salt: str) -> Report:
    """Number(7) -> Explode -> Total <- Number(1); Total -> Report. With the fail flag set
    Explode raises, so Total and Report are blocked."""
    total = Total(parts=(Explode(source=Number(salt=salt, value=7)),
                         Number(salt=salt, value=1)))
    return Report(total=total, title=f"Failing {salt}")


def describe(root: Any) -> dict[str, Any]:
    """Task ids by name and value/factor (``Number(1)``, ``Scale(2)``) and the static edges
    of the DAG, for the test's assertions."""
    tasks: dict[str, Any] = {}
    edges: set[tuple[str, str]] = set()

    def visit(task: Any) -> None:
        if str(task.id) in tasks:
            return
        tasks[str(task.id)] = task
        for dep in sd.flatten_task_struct(task.requires()):
            edges.add((str(dep.id), str(task.id)))
            visit(dep)

    visit(root)
    labels = {}
    for task_id, task in tasks.items():
        label = task.get_name()
        for name in ("value", "factor"):
            if hasattr(task, name):
                label += f"({getattr(task, name)})"
        labels[label] = task_id
    return {"root": str(root.id), "tasks": labels, "edges": sorted(edges)}
