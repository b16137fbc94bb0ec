package io.jfrebpf.convert.it;

import java.nio.file.Files;
import java.nio.file.Path;

/** Reads one file again and again instead of keeping its content (a file-open storm), for the report's golden test. Args: file times. */
public final class Rereader {
    public static void main(String[] args) throws Exception {
        Path file = Files.writeString(Path.of(args[0]), "config=1\n");
        long bytes = 0;
        for (int i = 0, n = Integer.parseInt(args[1]); i < n; i++) {
            bytes += readAgain(file);
        }
        System.out.println("read " + bytes);
    }

    static int readAgain(Path file) throws Exception {
        return Files.readAllBytes(file).length;
    }
}
