package io.jfrebpf.agent.probe;

/** Reaches the discovery's package-private parsers from the fuzz tests. */
public final class PostgresTitles {
    private PostgresTitles() {
    }

    public static void check(String text, int port) {
        PostgresDiscovery.titleNamesClient(text, new byte[] {127, 0, 0, 1}, port);
        PostgresDiscovery.databaseFromTitle(text);
        PostgresDiscovery.portFromPidFile(text, port);
    }
}
