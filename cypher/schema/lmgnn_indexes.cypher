// Indexes lmgnn created (named lmgnn_*) that no constraint owns, to drop before replacing.
SHOW INDEXES YIELD name, owningConstraint
WHERE name STARTS WITH 'lmgnn_' AND owningConstraint IS NULL
RETURN name
