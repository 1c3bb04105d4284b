// One batch of nodes that are already stored (a reload): $keys, $nids, $props as parallel
// lists. MERGE on the constrained key; `nid` is only given to a node that is not there any
// more. None values remove a property, so a reload is exact.
UNWIND range(0, size($keys) - 1) AS i
MERGE (n:{{label}} { {{key}}: $keys[i] })
ON CREATE SET n.{{nid}} = $nids[i]
SET n += $props[i]
