package io.jfrebpf.agent.stack;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.util.Arrays;

/**
 * How kallsyms was read before its table was made compact — a String per line, a String per
 * name, sorted with boxed indices — kept as the reference the compact one must agree with.
 * One thing differs on purpose: an address farther than {@link KernelSymbols#MAX_FUNCTION_SIZE}
 * from the symbol below it by 2^63 or more resolved (a signed difference); here it does not.
 */
final class KallsymsReference {
    private final long[] addresses;
    private final String[] names;

    private KallsymsReference(long[] addresses, String[] names) {
        this.addresses = addresses;
        this.names = names;
    }

    static KallsymsReference parse(String text) throws IOException {
        long[] a = new long[16];
        String[] n = new String[16];
        int count = 0;
        try (BufferedReader r = new BufferedReader(new StringReader(text))) {
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
        }
        long[] addresses = Arrays.copyOf(a, count);
        String[] names = Arrays.copyOf(n, count);
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
        return new KallsymsReference(sortedAddresses, sortedNames);
    }

    String symbol(long address) {
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
        return found < 0 || Long.compareUnsigned(address - addresses[found], KernelSymbols.MAX_FUNCTION_SIZE) > 0 ? null : names[found];
    }

    /** Every address listed, each once per symbol there. */
    long[] addresses() {
        return addresses.clone();
    }

    int count() {
        return addresses.length;
    }
}
