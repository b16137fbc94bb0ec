package io.jfrebpf.convert.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;

/**
 * A page opened in Debian's headless Chromium: the console's errors (Chromium logs them to
 * stderr with --enable-logging) and a screenshot.
 */
final class Chromium {
    /** What a page showed: its console's errors, the coloured pixels, and the rows (y) coloured across 90% of the width or more. */
    record Page(String log, List<String> scriptErrors, long coloredPixels, List<Integer> fullRows, int height) {
    }

    private Chromium() {
    }

    /**
     * Tall enough for the deepest stack a recording can hold (128 user + 127 kernel frames, and
     * inlined Java frames, at 16 px a level): the page never scrolls, and what a screenshot shows
     * does not depend on the deepest stack of the recording (a JIT compiler thread's, often).
     */
    static final int HEIGHT = 6000;

    static Path binary() {
        for (String b : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")) {
            if (Files.isExecutable(Path.of(b))) {
                return Path.of(b);
            }
        }
        throw new AssertionError("no headless Chromium: scripts/setup.sh installs Debian's chromium package");
    }

    /** The first screen a person sees of a page: a laptop's window, not scrolled. */
    static final int FIRST_SCREEN = 800;

    static Page open(Path html, Path screenshot) throws Exception {
        return open(html, screenshot, HEIGHT);
    }

    static Page firstScreen(Path html, Path screenshot) throws Exception {
        return open(html, screenshot, FIRST_SCREEN);
    }

    static Page open(Path html, Path screenshot, int height) throws Exception {
        Path profile = Files.createTempDirectory("chromium-profile");
        Process p = new ProcessBuilder(binary().toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0",
                "--window-size=1280," + height, "--virtual-time-budget=3000", "--screenshot=" + screenshot,
                html.toUri().toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "chromium did not finish");
        List<String> errors = log.lines().filter(l -> l.contains("CONSOLE") && (l.contains("Uncaught") || l.contains("Error")))
                .toList();
        assertTrue(Files.isRegularFile(screenshot), "no screenshot:\n" + log);
        BufferedImage image = ImageIO.read(screenshot.toFile());
        long colored = 0;
        List<Integer> fullRows = new java.util.ArrayList<>();
        for (int y = 0; y < image.getHeight(); y++) {
            int row = 0;
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y);
                int r = (rgb >> 16) & 0xff;
                int g = (rgb >> 8) & 0xff;
                int b = rgb & 0xff;
                if (Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) > 40) {
                    row++;
                }
            }
            colored += row;
            if (row >= image.getWidth() * 9 / 10) {
                fullRows.add(y);
            }
        }
        return new Page(log, errors, colored, fullRows, image.getHeight());
    }
}
