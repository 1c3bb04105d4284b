// One batch of relationships of a relation that has none in the database yet (the loader
// wrote each (source, target) pair of the files once), endpoints by `_nid`: $s, $t, $props
// as parallel lists. CREATE skips MERGE's scan of the pair's existing relationships.
UNWIND range(0, size($s) - 1) AS i
MATCH (a:{{source}} { {{nid}}: $s[i] })
MATCH (b:{{target}} { {{nid}}: $t[i] })
CREATE (a)-[r:{{type}}]->(b)
SET r += $props[i]
