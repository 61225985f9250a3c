import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.AbstractMongoBackend;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

/**
 * MongoDB wire-protocol stand-in for tests, built on mongo-java-server.
 *
 * <pre>
 *   java -cp '&lt;jars&gt;/*' test/mongo-server/MongoStandIn.java &lt;port&gt; [memory | h2:&lt;file&gt;] [--ignore-stdin]
 * </pre>
 *
 * Binds 127.0.0.1:&lt;port&gt; (0 picks a free port), prints exactly one line {@code LISTENING <port>}
 * to stdout once bound, and shuts down cleanly (closing the backend, which flushes an H2 file)
 * when stdin reaches end-of-file or on SIGTERM/SIGINT. Watching stdin means the server dies with
 * its parent even when the parent is killed outright; pass --ignore-stdin to run it by hand.
 * Everything else (server logs, errors) goes to stderr.
 *
 * With h2:&lt;file&gt; the data survives a clean shutdown. A SIGKILL can lose the last writes: H2's
 * MVStore commits in the background (about once a second), and a document inserted just before a
 * kill was observed missing after the restart.
 *
 * Exit codes: 0 clean shutdown, 2 bad arguments, 3 could not bind or open the backend.
 */
public class MongoStandIn {

    /**
     * The wire version the server reports in hello. mongo-java-server's own ServerVersion enum
     * stops at MONGO_5_0, which reports wire version 8 (and is the default); the MongoDB Node
     * driver 7 used by Mongoose 9 refuses anything below wire version 9 (MongoDB 4.4). No enum
     * value is newer, so the version is declared here. 4.4 / wire 9 is the lowest the driver
     * accepts, which keeps the driver from assuming newer server features the stand-in lacks.
     */
    enum StandInVersion implements MongoVersion {
        MONGO_4_4(List.of(4, 4, 0), 9);

        private final List<Integer> versionArray;
        private final int wireVersion;

        StandInVersion(List<Integer> versionArray, int wireVersion) {
            this.versionArray = versionArray;
            this.wireVersion = wireVersion;
        }

        @Override
        public List<Integer> getVersionArray() {
            return versionArray;
        }

        @Override
        public int getWireVersion() {
            return wireVersion;
        }
    }

    public static void main(String[] args) {
        // Must be set before the first slf4j logger is created.
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }

        boolean ignoreStdin = false;
        String portArg = null;
        String backendArg = "memory";
        int positional = 0;
        for (String arg : args) {
            if (arg.equals("--ignore-stdin")) {
                ignoreStdin = true;
            } else if (arg.startsWith("--")) {
                usage("unknown option " + arg);
            } else if (positional == 0) {
                portArg = arg;
                positional++;
            } else if (positional == 1) {
                backendArg = arg;
                positional++;
            } else {
                usage("too many arguments");
            }
        }
        if (portArg == null) {
            usage("missing <port>");
        }
        int port = -1;
        try {
            port = Integer.parseInt(portArg);
        } catch (NumberFormatException e) {
            usage("port must be a number, got '" + portArg + "'");
        }
        if (port < 0 || port > 65535) {
            usage("port out of range: " + port);
        }

        if (!backendArg.equals("memory") && !(backendArg.startsWith("h2:") && backendArg.length() > 3)) {
            usage("unknown backend '" + backendArg + "' (expected memory or h2:<file>)");
        }

        MongoServer server;
        int boundPort;
        try {
            AbstractMongoBackend backend = openBackend(backendArg);
            backend.version(StandInVersion.MONGO_4_4);
            server = new MongoServer(backend);
            server.bind("127.0.0.1", port);
            boundPort = server.getLocalAddress().getPort();
        } catch (Exception e) { // netty rethrows checked BindException undeclared
            System.err.println("MongoStandIn: could not start on 127.0.0.1:" + port + " with backend '"
                + backendArg + "': " + e);
            System.exit(3);
            return;
        }

        AtomicBoolean stopped = new AtomicBoolean(false);
        MongoServer running = server;
        // Runs on SIGTERM/SIGINT and on System.exit (the stdin path below).
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (stopped.compareAndSet(false, true)) {
                running.shutdown();
            }
        }, "mongo-stand-in-shutdown"));

        System.out.println("LISTENING " + boundPort);
        System.out.flush();

        if (!ignoreStdin) {
            Thread stdinWatcher = new Thread(() -> {
                drain(System.in);
                System.exit(0);
            }, "mongo-stand-in-stdin");
            stdinWatcher.setDaemon(true);
            stdinWatcher.start();
        }
        // Netty's non-daemon event loop threads keep the JVM alive until shutdown.
    }

    private static AbstractMongoBackend openBackend(String spec) {
        if (spec.startsWith("h2:")) {
            return new H2Backend(spec.substring(3));
        }
        return new MemoryBackend();
    }

    private static void drain(InputStream in) {
        byte[] buffer = new byte[256];
        try {
            while (in.read(buffer) != -1) {
                // input is ignored; only end-of-file matters
            }
        } catch (IOException e) {
            // a broken stdin counts as closed
        }
    }

    private static void usage(String problem) {
        System.err.println("MongoStandIn: " + problem);
        System.err.println("usage: java -cp '<jars>/*' MongoStandIn.java <port> [memory | h2:<file>] [--ignore-stdin]");
        System.exit(2);
    }
}
