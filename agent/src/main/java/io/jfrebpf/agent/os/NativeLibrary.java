package io.jfrebpf.agent.os;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;

/**
 * A shared library whose symbols {@link NativeFunction}s resolve: opened on the first lookup
 * (a run that never calls into it never opens it), kept open for the life of the JVM. A library
 * that cannot be opened fails every lookup with the same message.
 */
public final class NativeLibrary {
    /** libc and whatever else the JVM has loaded. */
    public static final NativeLibrary LIBC = new NativeLibrary("libc");

    private final String name;
    private final String[] candidates;
    private SymbolLookup lookup;
    private String failure;

    private NativeLibrary(String name) {
        this.name = name;
        this.candidates = null;
    }

    /**
     * A library opened by the first of {@code candidates} (sonames or paths) the dynamic linker
     * accepts; {@code name} and {@code hint} are for the failure message.
     */
    public NativeLibrary(String name, String hint, String... candidates) {
        this.name = name + " (" + hint + ")";
        this.candidates = candidates.clone();
    }

    /** The address of a symbol; an {@link UnsatisfiedLinkError} naming it when it is not there. */
    MemorySegment find(String symbol) {
        SymbolLookup l = lookup();
        MemorySegment address = l.find(symbol).orElse(null);
        if (address == null) {
            throw new UnsatisfiedLinkError(symbol + " is not in " + name);
        }
        return address;
    }

    private synchronized SymbolLookup lookup() {
        if (lookup != null) {
            return lookup;
        }
        if (failure != null) {
            throw new UnsatisfiedLinkError(failure);
        }
        if (candidates == null) {
            lookup = Linker.nativeLinker().defaultLookup();
            return lookup;
        }
        String last = "";
        for (String c : candidates) {
            try {
                lookup = SymbolLookup.libraryLookup(c, Arena.global());
                return lookup;
            } catch (IllegalArgumentException e) {
                last = e.getMessage();
            }
        }
        failure = name + " not found: " + last;
        throw new UnsatisfiedLinkError(failure);
    }
}
