// One (:ModelRun) per run id.
CREATE CONSTRAINT lmgnn_model_run_id IF NOT EXISTS
FOR (r:ModelRun) REQUIRE r.run_id IS UNIQUE
