package io.jfrebpf.agent.os;

import java.io.IOException;

/** The file is not an ELF64 little-endian object, or its tables point outside it. */
public final class ElfFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public ElfFormatException(String message) {
        super(message);
    }
}
