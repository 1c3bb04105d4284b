// Drop one lmgnn index.
DROP INDEX {{index}} IF EXISTS
