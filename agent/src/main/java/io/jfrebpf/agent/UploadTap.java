package io.jfrebpf.agent;

import io.jfrebpf.agent.jfr.JfrStack;
import io.jfrebpf.agent.probe.BackgroundWork;
import io.jfrebpf.agent.probe.Recorder;
import io.jfrebpf.agent.upload.PyroscopeUpload;
import io.jfrebpf.events.EbpfEvent;
import io.jfrebpf.events.UploadStatusEvent;

/**
 * {@code upload=}: the recorder's events with stacks feed the live profiles of a
 * {@link PyroscopeUpload}, which sends them every {@code upload.interval} on the agent's background
 * thread, and the last period at the end; its {@code ebpf.UploadStatus} goes with the probes'.
 */
final class UploadTap implements Recorder.Tap, PyroscopeUpload.Timer {
    private final BackgroundWork background;
    private final PyroscopeUpload upload;

    /** For {@code options} that upload (made only then: without {@code upload=} this class is not even loaded). */
    UploadTap(Options options, BackgroundWork background) {
        this.background = background; // before the upload, which schedules its first period at once
        this.upload = new PyroscopeUpload(options.upload().orElseThrow(),
                options.service().orElseGet(PyroscopeUpload::defaultService), PyroscopeUpload.labels(), this, options.cpuHz());
    }

    @Override
    public void recorded(EbpfEvent event, long durationNs, JfrStack stack) {
        upload.recorded(event, durationNs, stack);
    }

    @Override
    public boolean schedule(Runnable task, long delayMillis) {
        return background.schedule(task, delayMillis);
    }

    /** The last period's profiles, from the thread that ends the recording, for at most {@link PyroscopeUpload#EXIT_TIMEOUT}. */
    void finish() {
        upload.finish();
    }

    UploadStatusEvent status() {
        return upload.status();
    }
}
