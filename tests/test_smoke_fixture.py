def test_clean_graph_each_test(neo4j_db):
    assert neo4j_db.run("MATCH (n) RETURN count(n) AS n") == [{"n": 0}]
    neo4j_db.run("CREATE (:Tmp {x: 1})")
    assert neo4j_db.run("MATCH (n:Tmp) RETURN n.x AS x") == [{"x": 1}]


def test_previous_test_left_nothing(neo4j_db):
    assert neo4j_db.run("MATCH (n) RETURN count(n) AS n") == [{"n": 0}]
