// One batch of nodes whose keys are new to the database (the loader read every stored key
// first), as parallel lists: $keys, $nids, $props (property maps). CREATE skips the MERGE's
// index probe and lock; the unique constraints still refuse a key or `_nid` given twice.
UNWIND range(0, size($keys) - 1) AS i
CREATE (n:{{label}} { {{key}}: $keys[i], {{nid}}: $nids[i] })
SET n += $props[i]
