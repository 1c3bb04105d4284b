// Server name, version and edition (Community/Enterprise).
CALL dbms.components() YIELD name, versions, edition
RETURN name, versions, edition
