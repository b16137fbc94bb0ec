package io.jfrebpf.agent.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The redactor on SQL that trips naive ones: quotes inside quotes, escapes, dollar quoting, comments. */
class SqlRedactionTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            SELECT * FROM t WHERE name = 'O''Brien' AND id = 42         | SELECT * FROM t WHERE name = ? AND id = ?
            SELECT E'it\\'s', 'after'                                    | SELECT ?, ?
            SELECT e'ends in a backslash \\\\', 7                        | SELECT ?, ?
            SELECT 'a\\', 'b'                                            | SELECT ?, ?
            SELECT $$ it's 'quoted' $$, $fn$ a $$ b $fn$, 1              | SELECT ?, ?, ?
            SELECT $q$ $1 'x' $q$ FROM t                                 | SELECT ? FROM t
            SELECT * FROM t WHERE id = $1 AND t2.c = $22                 | SELECT * FROM t WHERE id = $1 AND t2.c = $22
            SELECT "weird 'col' 5", "a""b" FROM "t1"                     | SELECT "weird 'col' 5", "a""b" FROM "t1"
            SELECT 3.5e-3, .5, 0x1F, 1_000, 1e10, 12. FROM t9            | SELECT ?, ?, ?, ?, ?, ? FROM t9
            SELECT col1, a1b2, t.x2, a$1, b$$c FROM t3                   | SELECT col1, a1b2, t.x2, a$1, b$$c FROM t3
            SELECT U&'d\\0061t\\+000061', B'1010', X'FF', N'nat'         | SELECT ?, ?, ?, ?
            SELECT '2020-01-01'::date, DATE '2020-01-02', -5             | SELECT ?::date, DATE ?, -?
            SELECT ARRAY[1,2], '{3,4}'::int[]                            | SELECT ARRAY[?,?], ?::int[]
            SELECT ''                                                    | SELECT ?
            SELECT 'secret never closed                                  | SELECT ?
            SELECT $x$ secret never closed                               | SELECT ?
            INSERT INTO users(name, email) VALUES ('Ann', 'ann@x.org')   | INSERT INTO users(name, email) VALUES (?, ?)
            UPDATE acct SET balance = balance - 100.25 WHERE id = 7      | UPDATE acct SET balance = balance - ? WHERE id = ?
            SELECT pg_sleep(0.2)                                         | SELECT pg_sleep(?)
            """)
    void literalsBecomeMarks(String sql, String expected) {
        assertEquals(expected, SqlRedaction.redact(sql));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            `-- it's 5\nSELECT 'x'`                          | `-- it's 5\nSELECT ?`
            `/* a /* nested 'x' */ 7 */ SELECT 'y'`         | `/* a /* nested 'x' */ 7 */ SELECT ?`
            `SELECT 1 /* controller='users' */`             | `SELECT ? /* controller='users' */`
            `SELECT '--not a comment', 2 -- tail`           | `SELECT ?, ? -- tail`
            `SELECT '/* not a comment */', 3`               | `SELECT ?, ?`
            `SELECT 'multi\nline', 4`                       | `SELECT ?, ?`
            """)
    void commentsStayAndOnlyRealCommentsCount(String sql, String expected) {
        assertEquals(expected.replace("\\n", "\n"), SqlRedaction.redact(sql.replace("\\n", "\n")));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            SELECT * FROM users WHERE ssn = '123-45-6789'|123-45-6789
            SELECT * FROM cards WHERE pan = 4111111111111111|4111111111111111
            SELECT $tag$hunter2$tag$|hunter2
            SELECT E'\\x41\\'hunter3'|hunter3
            """)
    void noSecretSurvives(String sql, String secret) {
        assertFalse(SqlRedaction.redact(sql).contains(secret), SqlRedaction.redact(sql));
    }
}
