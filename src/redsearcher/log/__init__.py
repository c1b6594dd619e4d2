"""Records, the run log and their JSONL files: what every layer above the model reads and writes.

- The task record (``Task`` with its reasoning graph: ``GraphNode``, ``Constraint``,
  ``Condition``, ``Verdict``, ``TaskProvenance``): one record from synthesis through rollout to
  evaluation, for synthesized tasks and benchmark questions alike.
- The trajectory records (``Message``, ``ToolCallRecord``, ``Segment``, ``Trajectory`` …): one
  typed trajectory that the agent loop produces, the rollout writes and evaluation, export, RL
  and resume read. They live below ``model`` and ``agent`` because both — and synthesis, which
  asks a model for its realizations — speak in them.
- ``JsonlFile`` and ``iter_records``: the one resumable append-only JSONL primitive (lock,
  ``fsync``, torn-tail recovery, pinned header) and the one typed reader (file/line/field
  errors) behind run logs, synthesis output, task files and scripts.
- ``RunLog``: one rollout run directory (``run.json`` + append-only ``trajectories.jsonl``),
  resumable after ``kill -9`` without loss or duplicates.

Nothing here touches the network; only ``JsonlFile`` (and ``RunLog`` through it) writes files.
"""

from redsearcher.log._jsonl import HeaderMismatch, JsonlFile
from redsearcher.log._reader import RecordError, iter_records
from redsearcher.log._records import (
    AttachmentRecord,
    Message,
    Segment,
    SegmentTokens,
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
from redsearcher.log._task import (
    Condition,
    Constraint,
    GraphNode,
    NodeRole,
    Task,
    TaskProvenance,
    TaskTool,
    Uniqueness,
    Verdict,
    read_tasks,
)

__all__ = [
    "MANIFEST_FILE",
    "TRAJECTORIES_FILE",
    "AttachmentRecord",
    "Condition",
    "Constraint",
    "GraphNode",
    "HeaderMismatch",
    "JsonlFile",
    "Message",
    "NodeRole",
    "RecordError",
    "RunLog",
    "RunManifest",
    "Segment",
    "SegmentTokens",
    "Task",
    "TaskProvenance",
    "TaskTool",
    "Termination",
    "ToolCallRecord",
    "Trajectory",
    "TrajectoryProvenance",
    "Uniqueness",
    "Usage",
    "Verdict",
    "iter_records",
    "read_manifest",
    "read_tasks",
    "read_trajectories",
]
