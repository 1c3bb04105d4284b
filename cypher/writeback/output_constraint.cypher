// One (:LmgnnOutput) node per output of a run (its id names the run and what was written).
CREATE CONSTRAINT lmgnn_output_id IF NOT EXISTS
FOR (o:LmgnnOutput) REQUIRE o.id IS UNIQUE
