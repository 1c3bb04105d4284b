// Every recorded training run, newest first.
MATCH (r:ModelRun)
RETURN properties(r) AS run
ORDER BY r.created_at DESC
