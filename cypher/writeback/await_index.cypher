// Wait until an index is online (vector indexes populate in the background).
// Parameters: $name, $timeout_s.
CALL db.awaitIndex($name, $timeout_s)
