// Node labels present in the database, to refuse loading over a graph lmgnn does not know.
CALL db.labels() YIELD label
RETURN collect(label) AS labels
