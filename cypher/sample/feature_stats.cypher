// Mean and population std of one numeric node property ($prop, checked against the spec) over
// every node of the label that has it: the standardisation of spec `features`.
MATCH (n:{{label}})
WHERE n[$prop] IS NOT NULL
RETURN avg(toFloat(n[$prop])) AS mean, stDevP(toFloat(n[$prop])) AS std
