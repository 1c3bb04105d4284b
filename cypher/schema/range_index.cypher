// Range index on one node property (e.g. the split property that samplers filter on).
CREATE INDEX {{index}} IF NOT EXISTS FOR (n:{{label}}) ON (n.{{prop}})
