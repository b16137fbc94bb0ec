package io.jfrebpf.agent.jvm;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * A JavaThread's OS thread id, as HotSpot keeps it: {@code Thread::_osthread} →
 * {@code OSThread::_thread_id}, offsets from VMStructs, read through {@link SafeMemory} (a stale
 * pointer gives 0, never a crash). Shared by the thread registry (Java thread → tid) and the
 * frame anchors (which TLS word is this thread's JavaThread).
 */
record OsThreadIds(long osThreadOffset, long threadIdOffset) {
    /** The offsets of this JVM: JDK 25 declares _osthread on Thread, older JDKs on JavaThread. */
    static Optional<OsThreadIds> of(VmStructs vm) {
        OptionalLong osThread = vm.fieldOffset("Thread", "_osthread");
        if (osThread.isEmpty()) {
            osThread = vm.fieldOffset("JavaThread", "_osthread");
        }
        OptionalLong threadId = vm.fieldOffset("OSThread", "_thread_id");
        return osThread.isPresent() && threadId.isPresent()
                ? Optional.of(new OsThreadIds(osThread.getAsLong(), threadId.getAsLong())) : Optional.empty();
    }

    /** The OS thread id of the JavaThread at this address, or 0 when it cannot be read. */
    int of(long javaThread) {
        if (javaThread == 0) {
            return 0;
        }
        long osThread = SafeMemory.readLong(javaThread + osThreadOffset, 0);
        int tid = osThread == 0 ? 0 : SafeMemory.readInt(osThread + threadIdOffset, 0);
        return Math.max(tid, 0);
    }
}
