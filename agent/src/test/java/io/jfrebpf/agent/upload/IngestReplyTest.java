package io.jfrebpf.agent.upload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.jfrebpf.agent.upload.IngestReply.Outcome;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class IngestReplyTest {

    @ParameterizedTest
    @CsvSource({"200,TAKEN", "204,TAKEN", "400,REJECTED", "401,REJECTED", "403,REJECTED", "404,REJECTED", "413,REJECTED",
            "422,REJECTED", "408,RETRY", "429,RETRY", "500,RETRY", "502,RETRY", "503,RETRY", "504,RETRY", "501,REJECTED",
            "307,REJECTED"})
    void eachStatusMeansWhatTheServerMeansByIt(int status, Outcome outcome) {
        assertEquals(outcome, new IngestReply(status, null, "").outcome());
    }

    @Test
    void retryAfterInSecondsOrAsADate() {
        Instant now = Instant.parse("2026-12-03T10:00:00Z");
        assertEquals(Duration.ofSeconds(120), IngestReply.retryAfter("120", now));
        assertEquals(Duration.ofSeconds(90), IngestReply.retryAfter("Thu, 03 Dec 2026 10:01:30 GMT", now));
        assertEquals(Duration.ZERO, IngestReply.retryAfter("Thu, 03 Dec 2026 09:00:00 GMT", now));
        assertEquals(Duration.ofDays(1), IngestReply.retryAfter("99999999999", now));
        assertNull(IngestReply.retryAfter("soon", now));
        assertNull(IngestReply.retryAfter(null, now));
    }
}
