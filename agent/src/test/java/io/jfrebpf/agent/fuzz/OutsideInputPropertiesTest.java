package io.jfrebpf.agent.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.agent.Options;
import io.jfrebpf.agent.os.ElfFile;
import io.jfrebpf.agent.os.ElfImage;
import io.jfrebpf.agent.os.ElfReference;
import io.jfrebpf.agent.os.ElfFormatException;
import io.jfrebpf.agent.os.Errno;
import io.jfrebpf.agent.os.OpenFlags;
import io.jfrebpf.agent.os.ProcMaps;
import io.jfrebpf.agent.os.Cgroups;
import io.jfrebpf.agent.probe.FileOpenRecord;
import io.jfrebpf.agent.probe.MallocRecord;
import io.jfrebpf.agent.probe.RunQueueRecord;
import io.jfrebpf.agent.probe.TcpRecord;
import io.jfrebpf.agent.probe.SyscallLatencyRecord;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * Every parser of input from outside the agent's control — the options string, records from the
 * kernel, ELF files found in the process, /proc text — on generated input (jqwik; failures are
 * shrunk to a small case): it returns, or throws its one documented exception with a message.
 * Anything else would reach the application as a crash of the agent's start or a dead poller.
 */
class OutsideInputPropertiesTest {

    @Property
    void optionsParseOrSayWhichKeyIsWrong(@ForAll("optionStrings") String text) {
        try {
            assertNotNull(Options.parse(text));
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage() != null && e.getMessage().contains("'"), "no key or value named: " + e.getMessage());
        }
    }

    @Provide
    Arbitrary<String> optionStrings() {
        Arbitrary<String> key = Arbitraries.of("file", "probes", "syscall.threshold", "cpu.hz", "offcpu.threshold",
                "malloc.interval", "jfr", "duration", "upload", "upload.interval", "upload.headers", "upload.user", "interval", "log", "colour", "",
                "probes.x");
        Arbitrary<String> value = Arbitraries.oneOf(
                Arbitraries.of("", "0", "-1", "1ms", "10m", "3.5s", "99", "1e9", "512k", "9999999999999999999g", "all",
                        "cpu+tcp", "file+", "+", "default", "profile", "none", "debug", "/tmp/x-%p-%t.jfr", "%", "=", ","),
                Arbitraries.strings().ofMaxLength(12));
        Arbitrary<String> item = Combinators.combine(key, value, Arbitraries.of("=", "", "==")).as((k, v, eq) -> k + eq + v);
        return item.list().ofMaxSize(6).map(items -> String.join(",", items));
    }

    @Property
    void anyFileOpenRecordDecodesOrIsTooShort(@ForAll @Size(max = 4300) byte[] bytes) {
        MemorySegment record = MemorySegment.ofArray(bytes);
        try {
            FileOpenRecord r = FileOpenRecord.decode(record);
            assertNotNull(r.path());
            assertTrue(r.path().length() <= FileOpenRecord.FILE_PATH_MAX, "path of " + r.path().length());
        } catch (IllegalArgumentException e) {
            assertTrue(bytes.length < FileOpenRecord.PATH, "rejected a record of " + bytes.length + " bytes: " + e);
        }
    }

    @Property
    void aFileOpenRecordWithAnyPathLengthStaysInsideTheRecord(@ForAll int pathLength, @ForAll @Size(max = 200) byte[] path) {
        ByteBuffer b = ByteBuffer.allocate((int) FileOpenRecord.PATH + path.length).order(ByteOrder.nativeOrder());
        b.putInt((int) FileOpenRecord.PATH_LEN, pathLength);
        b.put((int) FileOpenRecord.PATH, path);
        FileOpenRecord r = FileOpenRecord.decode(MemorySegment.ofArray(b.array()));
        assertTrue(r.path().getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= path.length * 3, r.path());
    }

    @Property
    void anySyscallLatencyRecordDecodesOrIsTooShort(@ForAll @Size(max = 100) byte[] bytes) {
        try {
            assertNotNull(SyscallLatencyRecord.decode(MemorySegment.ofArray(bytes)));
        } catch (IllegalArgumentException e) {
            assertTrue(bytes.length < SyscallLatencyRecord.SIZE, "rejected a record of " + bytes.length + " bytes: " + e);
        }
    }

    @Property
    void anyTcpRecordDecodesOrIsTooShort(@ForAll @Size(max = 200) byte[] bytes) {
        try {
            TcpRecord r = TcpRecord.decode(MemorySegment.ofArray(bytes));
            TcpRecord.Endpoints e = r.endpoints();
            assertNotNull(e.localAddress());
            assertNotNull(e.remoteAddress());
            assertTrue(e.localPort() >= 0 && e.localPort() <= 65535 && e.remotePort() >= 0 && e.remotePort() <= 65535);
            assertTrue(r.retransmits() >= 0 && r.segmentsIn() >= 0 && r.segmentsOut() >= 0 && r.srttMicros() >= 0);
            assertFalse(TcpRecord.stateName(r.state()).isEmpty());
            assertFalse(TcpRecord.directionName(r.direction()).isEmpty());
        } catch (IllegalArgumentException e) {
            assertTrue(bytes.length < TcpRecord.SIZE, "rejected a record of " + bytes.length + " bytes: " + e);
        }
    }

    @Property
    void anyMallocOrRunQueueRecordDecodesOrIsTooShort(@ForAll @Size(max = 120) byte[] bytes) {
        MemorySegment record = MemorySegment.ofArray(bytes);
        try {
            assertFalse(MallocRecord.functionName(MallocRecord.decode(record).function()).isEmpty());
        } catch (IllegalArgumentException e) {
            assertTrue(bytes.length < MallocRecord.SIZE, "rejected a malloc record of " + bytes.length + " bytes: " + e);
        }
        try {
            assertNotNull(MallocRecord.Live.decode(record));
        } catch (IllegalArgumentException e) {
            assertTrue(bytes.length < MallocRecord.Live.SIZE, "rejected a live allocation of " + bytes.length + " bytes: " + e);
        }
        try {
            assertNotNull(RunQueueRecord.decode(record));
        } catch (IllegalArgumentException e) {
            assertTrue(bytes.length < RunQueueRecord.SIZE, "rejected a run-queue record of " + bytes.length + " bytes: " + e);
        }
    }

    /** /proc/pid/cgroup, mountinfo, cpu.stat and cpu.max as any text: parsed or skipped, never thrown. */
    @Property
    void cgroupFilesParseWhateverTheyHold(@ForAll("cgroupText") String text) {
        for (Cgroups.Membership m : Cgroups.parseMemberships(text)) {
            assertNotNull(m.path());
        }
        for (Cgroups.Mount m : Cgroups.parseMounts(text).values()) {
            assertNotNull(m.mountPoint());
        }
        Cgroups.CpuStat stat = Cgroups.parseCpuStat(text);
        assertNotNull(stat);
        Cgroups.parseCpuMax(text).ifPresent(l -> assertTrue(l.quotaMicros() > 0 && l.periodMicros() > 0));
        Cgroups.containerId(text).ifPresent(id -> assertTrue(id.matches("[0-9a-f]{64}"), id));
        Cgroups.podUid(text).ifPresent(uid -> assertTrue(uid.matches("[0-9a-f-]{36}"), uid));
        assertNotNull(new Cgroups(Cgroups.parseMemberships(text), Cgroups.parseMounts(text)).path());
    }

    @Provide
    Arbitrary<String> cgroupText() {
        Arbitrary<String> line = Arbitraries.oneOf(
                Arbitraries.strings().withChars("0123456789:,/abcdefpux -=_.\\").ofMaxLength(80),
                Arbitraries.of("12:cpu,cpuacct:/docker/", "0::/", "31 30 0:27 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu",
                        "34 30 0:30 / /x rw - cgroup2 cgroup2 rw", "nr_periods 12", "throttled_usec 5", "max 100000",
                        "50000 100000", "kubepods-pod0a1b2c3d_4e5f_6a7b_8c9d_0e1f2a3b4c5d.slice",
                        "3f1c2d5e8a9b0c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d", " - ", "\\040"));
        return line.list().ofMaxSize(8).map(l -> String.join(l.size() % 2 == 0 ? "\n" : "", l));
    }

    @Property
    void anyFileIsAnElfFileOrAClearError(@ForAll("elfLike") byte[] bytes) throws IOException {
        Path file = Files.createTempFile("fuzz", ".so");
        try {
            Files.write(file, bytes);
            try (ElfFile elf = ElfFile.open(file)) {
                elf.symbol("open64");
                elf.symbols(java.util.List.of("malloc", "memcpy", "counter", "__libc_malloc"));
                elf.dataSymbol("counter");
                assertTrue(elf.dataSymbolsStartingWith("c", 16).size() <= 16);
                assertTrue(elf.symbolCount() >= 0);
                for (long vaddr : new long[] {0x1000, ElfImage.BASE + 0x100, ElfImage.BASE + 0x184, ElfImage.BASE + 0x400, -1}) {
                    elf.symbolAt(vaddr).ifPresent(s -> assertTrue(s.name().length() <= 4096, s.name()));
                }
            } catch (ElfFormatException e) {
                assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
            }
        } finally {
            Files.delete(file);
        }
    }

    /**
     * A whole small object (headers, section table, both symbol tables and their strings) with
     * some bytes changed: the lookups read the tables themselves, on demand, so every offset they
     * follow must be checked.
     */
    @Property(tries = 2000)
    void anyChangedObjectIsReadOrAClearError(@ForAll("changedImages") byte[] bytes) throws IOException {
        anyFileIsAnElfFileOrAClearError(bytes);
    }

    /**
     * A changed object that the reader before took (and that has one symbol table of each type:
     * it read every one, this one the first) answers as it did, at every function's edges, by
     * every name and for data; at a function's first byte shared with aliases, one of them.
     * (Bytes that are no UTF-8 decode alike in both; only a lookup by such a name differs.)
     */
    @Property(tries = 2000)
    void aChangedObjectAnswersAsTheOldReader(@ForAll("changedImages") byte[] bytes) throws IOException {
        Path file = Files.createTempFile("fuzz", ".so");
        try {
            Files.write(file, bytes);
            ElfReference old;
            try {
                old = ElfReference.open(file);
            } catch (ElfFormatException e) {
                return;
            }
            net.jqwik.api.Assume.that(old.oneTableOfEachType());
            // addresses compare unsigned now, signed before: alike below 2^63, where every user-space object lies
            net.jqwik.api.Assume.that(old.functions().stream().allMatch(f -> f.value() >= 0 && f.size() >= 0 && f.value() + f.size() >= 0));
            try (ElfFile elf = ElfFile.open(file)) {
                for (ElfFile.Symbol f : old.functions()) {
                    for (long vaddr : new long[] {f.value() - 1, f.value(), f.value() + 1, f.value() + f.size() - 1, f.value() + f.size()}) {
                        java.util.Optional<ElfFile.Symbol> got = elf.symbolAt(vaddr);
                        assertTrue(old.allows(vaddr, got), "at 0x" + Long.toHexString(vaddr) + ": " + got);
                    }
                }
                // by name: the names of valid UTF-8 (one that was not decodes with U+FFFD, which no caller asks for)
                java.util.List<String> names = new java.util.ArrayList<>(old.functionNames().stream().filter(n -> n.indexOf('\uFFFD') < 0).toList());
                names.addAll(java.util.List.of("malloc", "memcpy", "__libc_malloc", "sized_zero", "free", "counter"));
                java.util.Map<String, ElfFile.Symbol> found = elf.symbols(names);
                for (String name : names) {
                    assertEquals(old.symbol(name).orElse(null), found.get(name), name);
                }
                for (String name : java.util.stream.Stream.concat(old.dataNames().stream().filter(n -> n.indexOf('\uFFFD') < 0),
                        java.util.stream.Stream.of("counter", "malloc")).toList()) {
                    assertEquals(old.dataSymbol(name), elf.dataSymbol(name), name);
                }
            }
        } finally {
            Files.delete(file);
        }
    }

    @Provide
    Arbitrary<byte[]> changedImages() {
        long b = ElfImage.BASE;
        byte[] image = new ElfImage().dynamic("malloc", b + 0x100, 0x40, ElfImage.STT_FUNC)
                .dynamic("memcpy", b + 0x200, 0x20, ElfImage.STT_GNU_IFUNC).dynamic("counter", b + 0x300, 8, ElfImage.STT_OBJECT)
                .local("malloc@GLIBC_2.2.5", b + 0x180, 0x10, ElfImage.STT_FUNC).local("__libc_malloc", b + 0x100, 0x40, ElfImage.STT_FUNC)
                .local("sized_zero", b + 0x400, 0, ElfImage.STT_FUNC).undefined("free", b + 0x500, 0x10).bytes();
        Arbitrary<Byte> value = Arbitraries.oneOf(Arbitraries.bytes(), Arbitraries.of((byte) 0, (byte) -1, (byte) 0x7f, (byte) 0x80,
                (byte) 1, (byte) 24, (byte) 64));
        return Arbitraries.integers().between(0, image.length - 1).list().ofMinSize(1).ofMaxSize(8)
                .flatMap(positions -> value.list().ofSize(positions.size()).map(values -> {
                    byte[] copy = image.clone();
                    for (int i = 0; i < positions.size(); i++) {
                        copy[positions.get(i)] = values.get(i);
                    }
                    return copy;
                }));
    }

    /** Random bytes, and a real library's bytes with some of them changed (headers and tables get hit). */
    @Provide
    Arbitrary<byte[]> elfLike() throws IOException {
        byte[] libc = Files.readAllBytes(ProcMaps.self().libc().orElseThrow());
        byte[] head = java.util.Arrays.copyOf(libc, Math.min(libc.length, 1 << 16));
        Arbitrary<byte[]> mutated = Arbitraries.integers().between(0, head.length - 1).list().ofMinSize(1).ofMaxSize(16)
                .flatMap(positions -> Arbitraries.bytes().list().ofSize(positions.size()).map(values -> {
                    byte[] copy = head.clone();
                    for (int i = 0; i < positions.size(); i++) {
                        copy[positions.get(i)] = values.get(i);
                    }
                    return copy;
                }));
        return Arbitraries.oneOf(Arbitraries.bytes().array(byte[].class).ofMaxSize(512), mutated,
                Arbitraries.integers().between(0, head.length).map(n -> java.util.Arrays.copyOf(head, n)));
    }

    @Property
    void procMapsTakesWhatParsesAndSkipsTheRest(@ForAll("mapsText") String text) {
        ProcMaps maps = ProcMaps.parse(text);
        for (ProcMaps.Mapping m : maps.mappings()) {
            assertNotNull(m.path());
        }
        maps.libc();
        maps.libjvm();
    }

    @Provide
    Arbitrary<String> mapsText() {
        Arbitrary<String> line = Arbitraries.oneOf(
                Arbitraries.strings().ofMaxLength(80),
                Combinators.combine(Arbitraries.longs(), Arbitraries.longs(), Arbitraries.of("r-xp", "rw-p", "", "xxxx"),
                        Arbitraries.strings().alpha().ofMaxLength(20))
                        .as((a, b, perms, path) -> Long.toHexString(a) + "-" + Long.toHexString(b) + " " + perms
                                + " 00000000 fd:01 1234 /usr/lib/" + path));
        return line.list().ofMaxSize(20).map(lines -> String.join("\n", lines));
    }

    @Property
    void flagsAndErrnoNamesAreNeverEmpty(@ForAll int value) {
        assertFalse(OpenFlags.format(value).isEmpty());
        assertFalse(Errno.name(value).isEmpty());
    }
}
