package lmgnn.launcher;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

import org.neo4j.cli.AdminTool;
import org.neo4j.cli.ExecutionContext;

import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.server.CommunityBootstrapper;

/**
 * Runs the official Neo4j 5.26 Community server (Bolt, and HTTP with Neo4j Browser) in this JVM.
 *
 * <p>Usage: {@code java -cp launcher.jar:lib/* lmgnn.launcher.Launcher HOME key=value...}; every
 * {@code key=value} is a Neo4j setting (e.g. {@code server.bolt.listen_address=127.0.0.1:7687}).
 * The password for the {@code neo4j} user is read from the environment variable
 * {@code LMGNN_NEO4J_INITIAL_PASSWORD}, never from the command line (which {@code ps} shows). On a
 * fresh data directory it is set with {@code neo4j-admin dbms set-initial-password} (run in this
 * JVM) before the server first starts, so Bolt never accepts the factory {@code neo4j/neo4j}; a
 * store that still has the factory password is fixed after start-up; a password that was already
 * set is left alone.
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
        String password = System.getenv("LMGNN_NEO4J_INITIAL_PASSWORD");
        if (password != null && !password.isEmpty()) {
            setPasswordBeforeFirstStart(home, settings, password);
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
        if (password != null && !password.isEmpty()) {
            setInitialPassword(server.getDatabaseManagementService(), password);
        }
        System.out.println("LMGNN_READY");
        System.out.flush();
        stopped.await();
    }

    /**
     * On a data directory whose system database does not exist yet, writes the initial password
     * (hashed, {@code data/dbms/auth.ini}) that the first start gives user neo4j. The admin tool
     * reads the directories from a throwaway neo4j.conf holding the launcher's settings.
     */
    private static void setPasswordBeforeFirstStart(Path home, Map<String, String> settings,
                                                    String password) throws Exception {
        Path data = Path.of(settings.getOrDefault("server.directories.data",
                home.resolve("data").toString()));
        if (Files.exists(data.resolve("databases").resolve("system"))) {
            return;
        }
        Path conf = Files.createTempDirectory(home, ".admin-conf");
        try {
            List<String> lines = new ArrayList<>();
            settings.forEach((key, value) -> {
                if (key.startsWith("server.directories.")) {
                    lines.add(key + "=" + value);
                }
            });
            Files.write(conf.resolve("neo4j.conf"), lines, StandardCharsets.UTF_8);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
            int rc = AdminTool.execute(new ExecutionContext(home, conf, print, print,
                    new org.neo4j.io.fs.DefaultFileSystemAbstraction()),
                    // "--": a password may start with "-" (token_urlsafe does, 1 in 64)
                    "dbms", "set-initial-password", "--", password);
            if (rc != 0) {
                System.err.println("setting the initial password failed (code " + rc + "): "
                        + out.toString(StandardCharsets.UTF_8).replace(password, "***"));
                System.exit(3);
            }
        } finally {
            try (Stream<Path> files = Files.walk(conf)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
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
