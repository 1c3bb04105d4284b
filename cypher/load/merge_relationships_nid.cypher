// One batch of relationships of a relation that already has some (a reload, or more data):
// endpoints by `_nid`, $s, $t, $props as parallel lists. At most one relationship of this
// type per (source, target): MERGE makes reloads idempotent.
UNWIND range(0, size($s) - 1) AS i
MATCH (a:{{source}} { {{nid}}: $s[i] })
MATCH (b:{{target}} { {{nid}}: $t[i] })
MERGE (a)-[r:{{type}}]->(b)
SET r += $props[i]
