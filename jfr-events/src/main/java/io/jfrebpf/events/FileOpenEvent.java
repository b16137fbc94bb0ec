package io.jfrebpf.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** One open/openat/openat2/creat of the traced JVM. */
@Name("ebpf.FileOpen")
@FromProbe("file")
@Label("File Open")
@Description("A file opened (or an attempt) by this JVM through open, openat, openat2 or creat")
@Category({"eBPF", "File"})
public final class FileOpenEvent extends EbpfEvent implements OnCarrier {
    @Label("Path")
    @Description("Absolute path: relative paths resolved against the working or given directory")
    public String path;

    @Label("Path Truncated")
    @Description("True when the path was longer than could be read and is cut")
    public boolean pathTruncated;

    @Label("Flags")
    @Description("Open flags, e.g. O_RDONLY|O_CLOEXEC")
    public String flags;

    @Label("File Descriptor")
    @Description("The new file descriptor, -1 on error")
    public int fd;

    @Label("Error")
    @Description("errno name when the open failed, e.g. ENOENT")
    public String error;

    @Label("Carrier Thread")
    @Description("The platform thread the virtual thread was mounted on (its Java name); null when the event's thread is not virtual")
    public String carrierThread;

    @Override
    public void carrierThread(String name) {
        carrierThread = name;
    }
}
