// Write a seeded random split into relationships that have none yet (never overwrites).
// Placeholders: src, rel, dst. $rows: [{src, dst, split}] (dense ids).
UNWIND $rows AS row
MATCH (s:{{src}} {_nid: row.src})-[r:{{rel}}]->(d:{{dst}} {_nid: row.dst})
WHERE r._split IS NULL
SET r._split = row.split
