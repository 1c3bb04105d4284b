"""lmgnn.train: methods lm / gnn / lmgnn (stage-wise), splits, runs and (:ModelRun) records.

``train(config, driver, database, runs_root)`` runs one method on one task, reading the graph
through the sampler; see ``runner`` for the stages and ``runs`` for the run directory layout.
"""

from lmgnn.train.config import METHODS, STAGES, TASKS, TrainConfig
from lmgnn.train.runner import RunResult, train
from lmgnn.train.runs import RunDir, list_runs, record_run

__all__ = ["METHODS", "STAGES", "TASKS", "RunDir", "RunResult", "TrainConfig", "list_runs",
           "record_run", "train"]
