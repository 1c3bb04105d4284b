package lmgnn.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.server.CommunityBootstrapper;

/**
 * Runs the official Neo4j 5.26 Community server (Bolt, and HTTP with Neo4j Browser) in this JVM.
 *
 * <p>Usage: {@code java -cp launcher.jar:lib/* lmgnn.launcher.Launcher HOME key=value...}; every
 * {@code key=value} is a Neo4j setting (e.g. {@code server.bolt.listen_address=127.0.0.1:7687}).
 * The password for the {@code neo4j} user is read from the environment variable
 * {@code LMGNN_NEO4J_INITIAL_PASSWORD}, never from the command line (which {@code ps} shows), and is
 * applied only while the server still has the factory password, so a later start never resets it.
 * Prints {@code LMGNN_READY} once the server is up; SIGTERM shuts it down cleanly.
 */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: Launcher HOME [setting=value ...]");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        Files.createDirectories(home);
        Map<String, String> settings = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            if (kv.length != 2) {
                System.err.println("not a setting=value pair: " + args[i]);
                System.exit(2);
            }
            settings.put(kv[0], kv[1]);
        }
        CommunityBootstrapper server = new CommunityBootstrapper();
        int rc = server.start(home, settings);
        if (rc != 0) {
            System.err.println("Neo4j failed to start (code " + rc + ")");
            System.exit(rc);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.stop();
            stopped.countDown();
        }, "lmgnn-neo4j-shutdown"));
        String password = System.getenv("LMGNN_NEO4J_INITIAL_PASSWORD");
        if (password != null && !password.isEmpty()) {
            setInitialPassword(server.getDatabaseManagementService(), password);
        }
        System.out.println("LMGNN_READY");
        System.out.flush();
        stopped.await();
    }

    /** Replaces the factory password of user neo4j; leaves a password that was already set alone. */
    private static void setInitialPassword(DatabaseManagementService dbms, String password) {
        GraphDatabaseService system = dbms.database("system");
        boolean mustChange = system.executeTransactionally(
                "SHOW USERS YIELD user, passwordChangeRequired WHERE user = 'neo4j' "
                        + "RETURN passwordChangeRequired",
                Map.of(),
                result -> result.hasNext() && Boolean.TRUE.equals(result.next().get("passwordChangeRequired")));
        if (mustChange) {
            system.executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED",
                    Map.of("password", password));
        }
    }
}
