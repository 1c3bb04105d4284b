// Unique constraint (and its backing index) on one node property: keys and `_nid`.
// Idempotent: IF NOT EXISTS. {{constraint}} is lmgnn_<Label>_<property>.
CREATE CONSTRAINT {{constraint}} IF NOT EXISTS FOR (n:{{label}}) REQUIRE n.{{prop}} IS UNIQUE
