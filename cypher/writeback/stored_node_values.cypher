// `_nid`s of the nodes of one label that hold one of the run's properties (after a re-write,
// those it did not write again are the leftovers to remove). Identifiers: {{label}}, {{prop}}.
MATCH (n:{{label}})
WHERE n.{{prop}} IS NOT NULL
RETURN n._nid AS nid
