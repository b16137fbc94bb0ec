package io.jfrebpf.agent.upload;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * What the server's answer to one {@code POST /ingest} means, as grafana/pyroscope gives its
 * codes (pkg/ingester/pyroscope/ingest_handler.go, ServeHTTP): 2xx taken; 400 a bad name, 401 no
 * tenant (pkg/util/http/auth.go) or refused credentials (a gateway), 413 a body over the limit,
 * 422 a profile that fails conversion or validation (pkg/validation/validate.go) — sending one of
 * these again gives the same answer, so they are final; 408 the body was not read in time, 429 the
 * tenant's rate or ingest limit (the distributor's ResourceExhausted), 5xx the server or a proxy
 * in front of it — these pass, so they are retried, after {@code Retry-After} when it is given.
 */
record IngestReply(int status, Duration retryAfter, String message) {
    enum Outcome { TAKEN, RETRY, REJECTED }

    Outcome outcome() {
        if (status >= 200 && status < 300) {
            return Outcome.TAKEN;
        }
        if (status == 408 || status == 429 || status >= 500 && status != 501 && status != 505) {
            return Outcome.RETRY;
        }
        return Outcome.REJECTED;
    }

    /** "HTTP 422", with a hint for the codes a setup problem gives. */
    String cause() {
        return switch (status) {
            case 401 -> "HTTP 401: credentials missing or refused, or no tenant (upload.user/upload.password, upload.token, upload.tenant)";
            case 403 -> "HTTP 403: the credentials may not write profiles";
            case 404 -> "HTTP 404: no ingest API at this URL (give the server's base URL, without /ingest)";
            case 413 -> "HTTP 413: request body over the server's limit";
            default -> "HTTP " + status;
        };
    }

    /**
     * {@code Retry-After} (RFC 9110 10.2.3): seconds, or an HTTP date; null when absent or not
     * understood. A wait that would make a profile too old for the server makes it expire.
     */
    static Duration retryAfter(String header, Instant now) {
        if (header == null || header.isBlank()) {
            return null;
        }
        String h = header.strip();
        Duration d;
        try {
            d = Duration.ofSeconds(Math.min(Long.parseLong(h), 86_400)); // a day is already past any profile's use
        } catch (NumberFormatException notSeconds) {
            try {
                d = Duration.between(now, ZonedDateTime.parse(h, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
            } catch (DateTimeParseException notADate) {
                return null;
            }
        }
        return d.isNegative() ? Duration.ZERO : d;
    }
}
