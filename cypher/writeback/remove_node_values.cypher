// Remove the run's properties from some nodes (leftovers of an earlier write); returns how
// many held them. Identifiers: {{label}}, {{a}}, {{b}}, {{c}} (the output's properties; an
// output with fewer names repeats one). Parameters: $nids.
UNWIND $nids AS nid
MATCH (n:{{label}} {_nid: nid})
WHERE n.{{a}} IS NOT NULL
REMOVE n.{{a}}, n.{{b}}, n.{{c}}
RETURN count(n) AS removed
