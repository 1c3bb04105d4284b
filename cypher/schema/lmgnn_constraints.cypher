// Constraints lmgnn created (named lmgnn_*), to drop before replacing a graph.
SHOW CONSTRAINTS YIELD name
WHERE name STARTS WITH 'lmgnn_'
RETURN name
