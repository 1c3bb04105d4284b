// Drop a run's vector index.
// Parameters: $name.
DROP INDEX $name IF EXISTS
