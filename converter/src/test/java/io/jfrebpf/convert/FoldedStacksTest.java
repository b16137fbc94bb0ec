package io.jfrebpf.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class FoldedStacksTest {
    @Test
    void weightsAddUpPerStackAndHeaviestComeFirst() {
        FoldedStacks s = new FoldedStacks();
        s.add("a;b", 2);
        s.add("a;c", 5);
        s.add("a;b", 1);
        assertEquals(8, s.total());
        assertEquals(3, s.events());
        assertEquals("a;c 5\na;b 3\n", s.text());
    }

    @Test
    void scalingToAnotherTotalKeepsShares() {
        FoldedStacks s = new FoldedStacks();
        s.add("a;hot", 10);
        s.add("a;cold", 30);
        FoldedStacks scaled = s.scaledTo(400);
        assertEquals(100, scaled.weights().get("a;hot"));
        assertEquals(300, scaled.weights().get("a;cold"));
    }

    @Test
    void namesCannotBreakTheFormat() {
        assertEquals("operator:(int) x", FoldedStacks.clean("operator;(int)\nx"));
    }
}
