"""syslab: AI-driven systems research — evolve algorithms in sandboxes, keep every attempt."""

__version__ = "0.1.0"

__all__ = ["__version__", "run"]


def run(task, config=None):  # noqa: ANN001, ANN201 - thin re-export, typed in syslab.engine.run
    """Run an evolution: `syslab.run(task_dir_or_Task, RunConfig) -> RunResult`."""
    from syslab.engine.run import run_evolution

    return run_evolution(task, config)
