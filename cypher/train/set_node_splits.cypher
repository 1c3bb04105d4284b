// Write a seeded random split into nodes that have none yet (never overwrites: later runs and
// writeback see the same split). Placeholders: label. $rows: [{nid, split}].
UNWIND $rows AS row
MATCH (n:{{label}} {_nid: row.nid})
WHERE n._split IS NULL
SET n._split = row.split
