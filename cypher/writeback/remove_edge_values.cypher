// Remove the run's edge-class properties from the relationships of some pairs (leftovers of
// an earlier write); returns how many held them. Identifiers: {{source}}, {{type}},
// {{target}}, {{pred}}, {{prob}}. Parameters: $src, $dst (parallel lists).
UNWIND range(0, size($src) - 1) AS i
MATCH (:{{source}} {_nid: $src[i]})-[r:{{type}}]->(:{{target}} {_nid: $dst[i]})
WHERE r.{{pred}} IS NOT NULL
REMOVE r.{{pred}}, r.{{prob}}
RETURN count(r) AS removed
