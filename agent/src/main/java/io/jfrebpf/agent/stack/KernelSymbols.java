package io.jfrebpf.agent.stack;

import io.jfrebpf.agent.Log;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Kernel text symbols from {@code /proc/kallsyms}, sorted by address for lookup. Read once, on
 * the first kernel frame. Without the addresses (kptr_restrict hides them from this user) every
 * kernel frame stays unresolved and shows its address.
 */
public final class KernelSymbols {
    private final long[] addresses;
    private final String[] names;

    private KernelSymbols(long[] addresses, String[] names) {
        this.addresses = addresses;
        this.names = names;
    }

    public static KernelSymbols load() {
        return load(Path.of("/proc/kallsyms"));
    }

    static KernelSymbols load(Path file) {
        long[] a = new long[1 << 16];
        String[] n = new String[1 << 16];
        int count = 0;
        try (BufferedReader r = Files.newBufferedReader(file)) {
            String line;
            while ((line = r.readLine()) != null) {
                int s1 = line.indexOf(' ');
                int s2 = s1 < 0 ? -1 : line.indexOf(' ', s1 + 1);
                if (s2 < 0 || s2 != s1 + 2) {
                    continue;
                }
                char type = line.charAt(s1 + 1);
                if (type != 't' && type != 'T' && type != 'w' && type != 'W') {
                    continue;
                }
                long address;
                try {
                    address = Long.parseUnsignedLong(line, 0, s1, 16);
                } catch (NumberFormatException e) {
                    continue;
                }
                if (address == 0) {
                    continue;
                }
                int end = line.indexOf('\t', s2 + 1);
                String name = end < 0 ? line.substring(s2 + 1) : line.substring(s2 + 1, end);
                if (count == a.length) {
                    a = Arrays.copyOf(a, count * 2);
                    n = Arrays.copyOf(n, count * 2);
                }
                a[count] = address;
                n[count] = name;
                count++;
            }
        } catch (IOException | RuntimeException e) {
            Log.warn("kernel frames stay unresolved: cannot read %s (%s)", file, e.getMessage());
        }
        if (count == 0) {
            Log.info("kernel frames stay unresolved: %s shows no addresses to this user (kptr_restrict)", file);
        }
        long[] addresses = Arrays.copyOf(a, count);
        String[] names = Arrays.copyOf(n, count);
        if (!sorted(addresses)) {
            // kallsyms lists the kernel's text in address order and modules after it: rarely needed
            Integer[] order = new Integer[count];
            for (int i = 0; i < count; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (x, y) -> Long.compareUnsigned(addresses[x], addresses[y]));
            long[] sortedAddresses = new long[count];
            String[] sortedNames = new String[count];
            for (int i = 0; i < count; i++) {
                sortedAddresses[i] = addresses[order[i]];
                sortedNames[i] = names[order[i]];
            }
            return new KernelSymbols(sortedAddresses, sortedNames);
        }
        return new KernelSymbols(addresses, names);
    }

    private static boolean sorted(long[] addresses) {
        for (int i = 1; i < addresses.length; i++) {
            if (Long.compareUnsigned(addresses[i - 1], addresses[i]) > 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * The farthest an address is taken to belong to the symbol before it: kallsyms has no sizes,
     * and past the kernel's last symbol lie BPF programs and modules loaded after it was read.
     */
    static final long MAX_FUNCTION_SIZE = 64 * 1024;

    /** The function at a kernel address, or null. */
    public String symbol(long address) {
        int lo = 0;
        int hi = addresses.length - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(addresses[mid], address) <= 0) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found < 0 || address - addresses[found] > MAX_FUNCTION_SIZE ? null : names[found];
    }

    public int size() {
        return addresses.length;
    }
}
