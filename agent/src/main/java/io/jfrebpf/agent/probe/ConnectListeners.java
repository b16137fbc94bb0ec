package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.Log;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Outbound TCP connections of ours that completed, as the tcp probe decodes them: a probe that
 * follows the peer (postgres) looks at once instead of at its next periodic scan. Called on the
 * poller thread; a listener's failure is logged, never passed on.
 */
public final class ConnectListeners {
    private final List<Consumer<TcpRecord.Endpoints>> listeners = new CopyOnWriteArrayList<>();
    private volatile boolean producing;

    /** Whether a probe (tcp) reports connects: else listeners must look for connections themselves. */
    public boolean producing() {
        return producing;
    }

    void markProducing() {
        producing = true;
    }

    public void add(Consumer<TcpRecord.Endpoints> listener) {
        listeners.add(listener);
    }

    void connected(TcpRecord.Endpoints endpoints) {
        for (Consumer<TcpRecord.Endpoints> l : listeners) {
            try {
                l.accept(endpoints);
            } catch (RuntimeException e) {
                Log.debug("connect listener failed: %s", e);
            }
        }
    }
}
