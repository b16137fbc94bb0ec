package io.jfrebpf.agent.jvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.agent.os.NativeFunction;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Reads through SafeFetchN and through process_vm_readv, of memory we wrote and of memory that is
 * not there: the null page, a kernel address, and a page just unmapped next to a mapped one (a
 * read that ends at the boundary succeeds, one that crosses it fails).
 */
class SafeMemoryTest {
    private static final NativeFunction MMAP = NativeFunction.libc("mmap");
    private static final NativeFunction MUNMAP = NativeFunction.libc("munmap");
    private static final int PAGE = (int) NativeFunction.libc("getpagesize").call();
    private static final long KERNEL = 0xffff_8000_0000_0000L;

    /** Two pages: the first mapped and filled with 0, 1, 2, ... (mod 256), the second unmapped. */
    private long page;

    @BeforeEach
    void mapOneOfTwoPages() {
        page = MMAP.call(0, 2L * PAGE, 3 /* PROT_READ | PROT_WRITE */, 0x22 /* MAP_PRIVATE | MAP_ANONYMOUS */, -1, 0);
        assertTrue(page != -1 && page != 0, "mmap");
        assertEquals(0, MUNMAP.call(page + PAGE, PAGE), "munmap of the second page");
        MemorySegment s = MemorySegment.ofAddress(page).reinterpret(PAGE);
        for (int i = 0; i < PAGE; i++) {
            s.set(ValueLayout.JAVA_BYTE, i, (byte) i);
        }
    }

    @AfterEach
    void unmap() {
        MUNMAP.call(page, PAGE);
    }

    private long expectedLong(long offset) {
        return MemorySegment.ofAddress(page).reinterpret(PAGE).get(ValueLayout.JAVA_LONG_UNALIGNED, offset);
    }

    private int expectedInt(long offset) {
        return MemorySegment.ofAddress(page).reinterpret(PAGE).get(ValueLayout.JAVA_INT_UNALIGNED, offset);
    }

    @Test
    void thisJvmHasSafeFetch() {
        assertTrue(SafeMemory.fast(), "Temurin's libjvm keeps SafeFetchN in its .symtab: reads go through it");
    }

    @Test
    void wordsAtEveryAlignment() {
        for (int off = 0; off < 24; off++) {
            assertEquals(expectedLong(off), SafeMemory.readLong(page + off, -1), "long at +" + off);
            assertEquals(expectedInt(off), SafeMemory.readInt(page + off, -1), "int at +" + off);
            assertEquals(expectedLong(off), SafeMemory.wordBySyscall(page + off, 8, -1), "long by syscall at +" + off);
            assertEquals(expectedInt(off), (int) SafeMemory.wordBySyscall(page + off, 4, -1), "int by syscall at +" + off);
        }
    }

    @Test
    void aWordThatHoldsTheFirstErrorValueIsRead() {
        MemorySegment s = MemorySegment.ofAddress(page).reinterpret(PAGE);
        s.set(ValueLayout.JAVA_LONG, 64, SafeMemory.FAULT_A);
        s.set(ValueLayout.JAVA_LONG, 72, SafeMemory.FAULT_A);
        assertEquals(SafeMemory.FAULT_A, SafeMemory.readLong(page + 64, 0));
        assertEquals((int) SafeMemory.FAULT_A, SafeMemory.readInt(page + 64, 0));
        assertEquals(expectedLong(68), SafeMemory.readLong(page + 68, 0));
        byte[] b = new byte[16];
        assertTrue(SafeMemory.read(page + 64, b, 0, 16));
        assertEquals(SafeMemory.FAULT_A, MemorySegment.ofArray(b).get(ValueLayout.JAVA_LONG_UNALIGNED, 8));
    }

    @Test
    void bytesAtAnyOffsetAndLength() {
        byte[] all = MemorySegment.ofAddress(page).reinterpret(PAGE).toArray(ValueLayout.JAVA_BYTE);
        for (int off : new int[] {0, 1, 7, 8, 13, 100}) {
            for (int len : new int[] {1, 3, 8, 9, 17, 64, 512, 513, 1000}) {
                byte[] into = new byte[len + 10];
                Arrays.fill(into, (byte) 0x55);
                assertTrue(SafeMemory.read(page + off, into, 5, len), off + "+" + len);
                assertArrayEquals(Arrays.copyOfRange(all, off, off + len), Arrays.copyOfRange(into, 5, 5 + len), off + "+" + len);
                for (int i : new int[] {0, 1, 2, 3, 4, len + 5, len + 9}) {
                    assertEquals(0x55, into[i], "byte " + i + " outside the range read, " + off + "+" + len);
                }
                byte[] bySyscall = new byte[len];
                assertTrue(SafeMemory.readBySyscall(page + off, bySyscall, 0, len));
                assertArrayEquals(Arrays.copyOfRange(all, off, off + len), bySyscall, "by syscall " + off + "+" + len);
            }
        }
        assertEquals(expectedLong(16), SafeMemory.bytes(page + 16, 8).getLong(0), "little-endian buffer");
    }

    @Test
    void theNullPageAndKernelAddressesAreUnreadable() {
        for (long address : new long[] {0, 8, 4095, KERNEL, -8}) {
            assertEquals(42, SafeMemory.readLong(address, 42), "long at 0x" + Long.toHexString(address));
            assertEquals(42, SafeMemory.readInt(address, 42), "int at 0x" + Long.toHexString(address));
            assertFalse(SafeMemory.read(address, new byte[16], 0, 16), "bytes at 0x" + Long.toHexString(address));
            assertFalse(SafeMemory.read(address, new byte[4096], 0, 4096), "4 KiB at 0x" + Long.toHexString(address));
            assertNull(SafeMemory.bytes(address, 8));
            assertNull(SafeMemory.cString(address, 100));
            assertEquals(42, SafeMemory.wordBySyscall(address, 8, 42), "long by syscall at 0x" + Long.toHexString(address));
            assertFalse(SafeMemory.readBySyscall(address, new byte[16], 0, 16), "by syscall at 0x" + Long.toHexString(address));
        }
    }

    @Test
    void anUnmappedPageIsUnreadableUpToItsFirstByte() {
        long end = page + PAGE;
        assertEquals(expectedLong(PAGE - 8), SafeMemory.readLong(end - 8, 42), "the last word of the mapped page");
        assertEquals(expectedInt(PAGE - 4), SafeMemory.readInt(end - 4, 42), "its last int, in the upper half of a word");
        assertEquals(42, SafeMemory.readLong(end - 4, 42), "a long across the boundary");
        assertEquals(42, SafeMemory.readInt(end - 2, 42), "an int across the boundary");
        assertEquals(42, SafeMemory.readLong(end, 42), "the unmapped page");
        assertEquals(42, SafeMemory.readInt(end + 4, 42), "the unmapped page");
        byte[] b = new byte[PAGE + 8];
        assertTrue(SafeMemory.read(end - 3, b, 0, 3), "bytes that end at the boundary");
        assertFalse(SafeMemory.read(end - 3, b, 0, 4), "bytes across the boundary");
        assertFalse(SafeMemory.read(page, b, 0, PAGE + 1), "a syscall-sized read across the boundary");
        assertTrue(SafeMemory.read(page, b, 0, PAGE), "a syscall-sized read of the mapped page");
        assertTrue(SafeMemory.readBySyscall(end - 3, b, 0, 3), "by syscall, to the boundary");
        assertFalse(SafeMemory.readBySyscall(end - 3, b, 0, 4), "by syscall, across it");
        assertEquals(42, SafeMemory.wordBySyscall(end - 4, 8, 42), "a long by syscall across the boundary");
        assertEquals(expectedInt(PAGE - 4), (int) SafeMemory.wordBySyscall(end - 4, 4, 42), "an int by syscall to it");
    }

    @Test
    void aFreedMappingIsUnreadable() {
        long address = MMAP.call(0, PAGE, 3, 0x22, -1, 0);
        MemorySegment.ofAddress(address).reinterpret(8).set(ValueLayout.JAVA_LONG, 0, 1234);
        assertEquals(1234, SafeMemory.readLong(address, 42));
        assertEquals(0, MUNMAP.call(address, PAGE));
        assertEquals(42, SafeMemory.readLong(address, 42));
        assertEquals(42, SafeMemory.readInt(address, 42));
        assertFalse(SafeMemory.read(address, new byte[8], 0, 8));
        assertEquals(42, SafeMemory.wordBySyscall(address, 8, 42));
    }

    @Test
    void aStringEndsAtItsNulOrAtTheMax() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocateFrom("x".repeat(100));
            assertEquals("x".repeat(100), SafeMemory.cString(s.address(), 256));
            assertEquals("x".repeat(70), SafeMemory.cString(s.address(), 70));
        }
        long lastChunk = page + PAGE - 64; // bytes 0xc0..0xff then the unmapped page: no NUL, the string stops at the fault
        assertEquals(64, SafeMemory.cString(lastChunk, 256).length());
    }

    @Test
    void wordReadsAllocateNothing() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (int i = 0; i < 200_000; i++) {
            sum += SafeMemory.readLong(page + (i & 0xff), 0) + SafeMemory.readInt(page + (i & 0xff), 0);
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 100_000; i++) {
            sum += SafeMemory.readLong(page + (i & 0xff), 0) + SafeMemory.readInt(page + (i & 0xff), 0);
            sum += SafeMemory.readLong(8, 0) + SafeMemory.readInt(8, 0);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 100_000, allocated + " bytes for 400,000 reads (" + sum + ")");
    }
}
