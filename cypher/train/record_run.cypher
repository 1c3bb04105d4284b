// Record (or update) a training run; $props holds method, task, status and flat metrics.
MERGE (r:ModelRun {run_id: $run_id})
ON CREATE SET r.created_at = datetime()
SET r += $props, r.updated_at = datetime()
