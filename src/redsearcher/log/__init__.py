"""Records and the run log: what every layer above the model reads and writes.

- The records (``Message``, ``ToolCallRecord``, ``Segment``, ``Trajectory`` …): one typed
  trajectory that the agent loop produces, the rollout writes and evaluation, export, RL and
  resume read. They live below ``model`` and ``agent`` because both — and synthesis, which asks
  a model for its realizations — speak in them.
- ``JsonlFile`` and ``iter_records``: the one resumable append-only JSONL primitive (lock,
  ``fsync``, torn-tail recovery, pinned header) and the one typed reader (file/line/field
  errors) behind run logs, synthesis output, task files and scripts.
- ``RunLog``: one rollout run directory (``run.json`` + append-only ``trajectories.jsonl``),
  resumable after ``kill -9`` without loss or duplicates.

Nothing here touches the network; the run log is the only module that writes files.
"""

from redsearcher.log._jsonl import HeaderMismatch, JsonlFile
from redsearcher.log._reader import RecordError, iter_records
from redsearcher.log._records import (
    AgentTask,
    Message,
    Segment,
    Termination,
    ToolCallRecord,
    Trajectory,
    TrajectoryProvenance,
    Usage,
)
from redsearcher.log._runlog import (
    MANIFEST_FILE,
    TRAJECTORIES_FILE,
    RunLog,
    RunManifest,
    read_manifest,
    read_trajectories,
)

__all__ = [
    "MANIFEST_FILE",
    "TRAJECTORIES_FILE",
    "AgentTask",
    "HeaderMismatch",
    "JsonlFile",
    "Message",
    "RunLog",
    "RunManifest",
    "Segment",
    "Termination",
    "ToolCallRecord",
    "Trajectory",
    "TrajectoryProvenance",
    "RecordError",
    "Usage",
    "iter_records",
    "read_manifest",
    "read_trajectories",
]
