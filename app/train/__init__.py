"""lmgnn.train: methods lm / gnn / lmgnn (stage-wise), splits, runs and (:ModelRun) records.

``train(config, driver, database, runs_root)`` runs one method on one task, reading the graph
through the sampler (``batches``); ``stages`` holds the stages, ``runs`` the run directory,
``model_files.load_model`` rebuilds a finished run's model from its files alone.
"""

from lmgnn.train.config import METHODS, STAGES, TASKS, TrainConfig
from lmgnn.train.model_files import LoadedModel, load_model
from lmgnn.train.runner import train
from lmgnn.train.runs import RunDir, RunResult, list_runs, record_run

__all__ = ["METHODS", "STAGES", "TASKS", "LoadedModel", "RunDir", "RunResult", "TrainConfig",
           "list_runs", "load_model", "record_run", "train"]
