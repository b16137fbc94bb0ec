package io.jfrebpf.agent.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class SyscallTableTest {
    @Test
    void theShippedListHasTheX8664Numbers() {
        SyscallTable table = SyscallTable.load();
        assertTrue(table.size() > 300, table.size() + " names from " + table.source());
        assertEquals("read", table.name(0));
        assertEquals("openat", table.name(257));
        assertEquals("clock_nanosleep", table.name(230));
        assertEquals(2, table.number("open").orElseThrow());
        assertEquals(437, table.number("openat2").orElseThrow());
        assertEquals("syscall_9999", table.name(9999), "unknown numbers are named by number");
        assertTrue(table.number("no_such_call").isEmpty());
    }

    @Test
    void headerAndListFormats() {
        Map<Integer, String> header = SyscallTable.parseHeader("""
                #ifndef _ASM_UNISTD_64_H
                #define __NR_read 0
                #define __NR_write 1
                #define __NR_syscalls 2   /* not a syscall: no match, it has a comment */
                #define __X32_SYSCALL_BIT 0x40000000
                """);
        assertEquals(Map.of(0, "read", 1, "write"), header);
        assertEquals(Map.of(257, "openat", 0, "read"), SyscallTable.parseProperties("257=openat\n0=read\nbad line\n"));
    }
}
