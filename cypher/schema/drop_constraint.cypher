// Drop one lmgnn constraint (and its backing index).
DROP CONSTRAINT {{constraint}} IF EXISTS
