"""Local executor: engine replicas as child processes of this host, each in its own process group."""

from modelserve.executors.local.executor import LocalExecutor

__all__ = ["LocalExecutor"]
