// Wait (up to $seconds) until every index is online, so the first MERGE batch uses them.
CALL db.awaitIndexes($seconds)
