package io.jfrebpf.agent.os;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The generic shape into real libc functions: every C type as a long, errno per thread, int results truncated. */
class NativeFunctionTest {
    private static final int EBADF = 9;
    private static final NativeFunction STRLEN = NativeFunction.libc("strlen");
    private static final NativeFunction MEMCPY = NativeFunction.libc("memcpy");
    private static final NativeFunction MEMSET = NativeFunction.libc("memset");
    private static final NativeFunction GETPID = NativeFunction.libc("getpid");
    private static final NativeFunction ABS = NativeFunction.libc("abs");
    private static final NativeFunction ATOI = NativeFunction.libc("atoi");
    private static final NativeFunction DUP = NativeFunction.libc("dup");
    private static final NativeFunction ACCESS = NativeFunction.libc("access");
    private static final NativeFunction PROCESS_VM_READV = NativeFunction.libc("process_vm_readv");
    private static final NativeFunction QSORT = NativeFunction.libc("qsort");

    @Test
    void pointerArgumentsAndResults() {
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(11, STRLEN.call(arena.allocateFrom("jfr-ebpf ok").address()));
            MemorySegment src = arena.allocateFrom(ValueLayout.JAVA_LONG, 1, 2, 3);
            MemorySegment dst = arena.allocate(24, 8);
            assertEquals(dst.address(), MEMCPY.call(dst.address(), src.address(), 24));
            assertArrayEquals(new long[] {1, 2, 3}, dst.toArray(ValueLayout.JAVA_LONG));
        }
    }

    @Test
    void intArgumentsIgnoreTheUpperHalf() {
        assertEquals(5, (int) ABS.call(0x1234_5678_ffff_fffbL)); // the callee sees -5
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(16);
            MEMSET.call(s.address(), 0x7700_0000_0000_00abL, 16);
            for (byte b : s.toArray(ValueLayout.JAVA_BYTE)) {
                assertEquals((byte) 0xab, b);
            }
        }
    }

    @Test
    void noArgumentsAndAnIntResult() {
        assertEquals(ProcessHandle.current().pid(), (int) GETPID.call());
    }

    @Test
    void allSixArguments() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment from = arena.allocateFrom(ValueLayout.JAVA_LONG, 0x0102_0304_0506_0708L);
            MemorySegment into = arena.allocate(8, 8);
            MemorySegment iov = arena.allocate(32, 8);
            iov.set(ValueLayout.JAVA_LONG, 0, into.address());
            iov.set(ValueLayout.JAVA_LONG, 8, 8);
            iov.set(ValueLayout.JAVA_LONG, 16, from.address());
            iov.set(ValueLayout.JAVA_LONG, 24, 8);
            long n = PROCESS_VM_READV.call(ProcessHandle.current().pid(), iov.address(), 1, iov.address() + 16, 1, 0);
            assertEquals(8, n);
            assertEquals(0x0102_0304_0506_0708L, into.get(ValueLayout.JAVA_LONG, 0));
        }
    }

    @Test
    void anIntResultIsTheLowerHalf() {
        try (Arena arena = Arena.ofConfined()) {
            // glibc's atoi returns strtol's long as it is: the upper half is not the int's
            long raw = ATOI.call(arena.allocateFrom("4294967301").address()); // 2^32 + 5
            assertNotEquals(5L, raw, "this libc's atoi cleared the upper half: the test shows nothing here");
            assertEquals(5, (int) raw);
            assertEquals(-7, (int) ATOI.call(arena.allocateFrom("-7").address()));
        }
    }

    @Test
    void errnoOfAFailedCall() {
        assertEquals(-1, (int) DUP.call(-1));
        assertEquals(EBADF, Native.errno());
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(-1, (int) ACCESS.call(arena.allocateFrom("/nonexistent/jfr-ebpf").address(), 0));
            assertEquals(Errno.ENOENT, Native.errno());
        }
    }

    @Test
    void errnoIsPerThread() throws Exception {
        CountDownLatch failedHere = new CountDownLatch(1);
        CountDownLatch failedThere = new CountDownLatch(1);
        AtomicInteger there = new AtomicInteger();
        Thread other = new Thread(() -> {
            try {
                failedHere.await(10, TimeUnit.SECONDS);
                try (Arena arena = Arena.ofConfined()) {
                    ACCESS.call(arena.allocateFrom("/nonexistent/jfr-ebpf").address(), 0);
                }
                there.set(Native.errno());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                failedThere.countDown();
            }
        });
        other.start();
        DUP.call(-1);
        failedHere.countDown();
        assertTrue(failedThere.await(10, TimeUnit.SECONDS));
        other.join();
        assertEquals(Errno.ENOENT, there.get());
        assertEquals(EBADF, Native.errno()); // the other thread's failure did not overwrite ours
    }

    @Test
    void aMissingSymbolFailsAtItsCall() {
        NativeFunction missing = NativeFunction.libc("jfr_ebpf_no_such_function");
        assertFalse(missing.exists());
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class, missing::call);
        assertTrue(e.getMessage().contains("jfr_ebpf_no_such_function"), e.getMessage());
        assertTrue(GETPID.exists());
    }

    @Test
    void aMissingLibraryFailsEveryCallAlike() {
        NativeLibrary none = new NativeLibrary("libjfr-ebpf-none.so.9", "not installed", "libjfr-ebpf-none.so.9");
        NativeFunction f = new NativeFunction(none, "f");
        String first = assertThrows(UnsatisfiedLinkError.class, f::call).getMessage();
        String second = assertThrows(UnsatisfiedLinkError.class, f::call).getMessage();
        assertTrue(first.contains("libjfr-ebpf-none.so.9 (not installed)"), first);
        assertEquals(first, second);
    }

    @Test
    void aHeapSegmentIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> Native.address(MemorySegment.ofArray(new byte[8])));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(8);
            assertEquals(s.address(), Native.address(s));
        }
    }

    @Test
    void theCriticalShape() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment strnlen = Linker.nativeLinker().defaultLookup().findOrThrow("strnlen");
            assertEquals(3, Native.callCritical(strnlen, arena.allocateFrom("abcdef").address(), 3));
            assertEquals(6, Native.callCritical(strnlen, arena.allocateFrom("abcdef").address(), 100));
        }
    }

    @Test
    void theUpcallShape() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment compare = Native.upcall(MethodHandles.lookup().findStatic(NativeFunctionTest.class, "compareInts",
                    MethodType.methodType(int.class, long.class, long.class, long.class)), arena);
            MemorySegment ints = arena.allocateFrom(ValueLayout.JAVA_INT, 3, -1, 2, 9, 0);
            QSORT.call(ints.address(), 5, 4, compare.address());
            assertArrayEquals(new int[] {9, 3, 2, 0, -1}, ints.toArray(ValueLayout.JAVA_INT)); // descending
        }
    }

    /** int (*)(const void *, const void *): the third register is whatever the caller left there. */
    private static int compareInts(long a, long b, long unused) {
        return Integer.compare(Native.segment(b, 4).get(ValueLayout.JAVA_INT, 0), Native.segment(a, 4).get(ValueLayout.JAVA_INT, 0));
    }

}
