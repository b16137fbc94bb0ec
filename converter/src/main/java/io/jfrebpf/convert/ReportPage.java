package io.jfrebpf.convert;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.xml.parsers.DocumentBuilderFactory;
import org.openjdk.jmc.flightrecorder.rules.IResult;
import org.openjdk.jmc.flightrecorder.rules.report.html.JfrHtmlRulesReport;
import org.openjdk.jmc.flightrecorder.rules.report.html.internal.HtmlResultGroup;
import org.openjdk.jmc.flightrecorder.rules.report.html.internal.HtmlResultProvider;
import org.openjdk.jmc.flightrecorder.rules.report.html.internal.RulesHtmlToolkit;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * JMC's HTML report page for results evaluated here (with the report's settings), laid out as
 * JMC lays out its own ({@code JfrHtmlRulesReport}: its result groups, from its
 * {@code resultgroups.xml}), with a group of our own first for the jfr-ebpf rules (topic
 * {@code ebpf}). {@code JfrHtmlRulesReport.createReport} would evaluate every rule again, with
 * default settings.
 */
final class ReportPage {
    static final String OUR_TOPIC = "ebpf";
    /** Our group's 16x16 icon (a white K on blue, drawn with java.awt), as JMC's groups carry theirs: base64 PNG. */
    static final String ICON = "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAA9UlEQVR4XmNgoAbQylnvqZ2z4TEQ/ycSPwbpgRsAFHiERREh/AjZALCgXeX2/9kzToBpdA16eRv/Vy0+C6ZhYhgGgDSDQBaQRtacNvXY/zvPP4HlQIYQbYBP857/B6+8AIu9//Lzf8uqi8S5oHTBmf/Hrr/6/+fvv/+///z9v3j/3f+WZVtRXIXVgNxZJ8EG/Pj1F0y/eP8N6Iq9GBpxGrBo3x2wxmfvvv0/CnQBCKw/8fC/bi7C2XgNgLkgB0iDNIE04zMEwwD0QCRkCEEDCBlClAHohtQsOYfVAHBSBqVAkGZbLCkRZAhIM5ILEEmZ4sxECQAAQTH+WON0W5gAAAAASUVORK5CYII=";

    private ReportPage() {
    }

    record Group(String name, String image, List<String> topics, List<HtmlResultGroup> children) implements HtmlResultGroup {
        @Override
        public List<HtmlResultGroup> getChildren() {
            return children;
        }

        @Override
        public boolean hasChildren() {
            return !children.isEmpty();
        }

        @Override
        public String getId() {
            return Integer.toString(System.identityHashCode(this));
        }

        @Override
        public String getName() {
            return name;
        }

        @Override
        public String getImage() {
            return image;
        }

        @Override
        public Collection<String> getTopics() {
            return topics;
        }
    }

    static String html(Collection<IResult> results) throws IOException {
        List<HtmlResultGroup> groups = new ArrayList<>();
        groups.add(new Group("Kernel: jfr-ebpf", ICON, List.of(OUR_TOPIC), List.of()));
        groups.addAll(jmcGroups());
        Set<String> mapped = new HashSet<>();
        collectTopics(groups, mapped);
        Map<String, List<IResult>> byTopic = new HashMap<>();
        for (IResult r : results) {
            String topic = r.getRule().getTopic();
            // as JMC does: a topic no group shows goes to the group of topic "" (its event browser)
            byTopic.computeIfAbsent(topic != null && mapped.contains(topic) ? topic : "", k -> new ArrayList<>()).add(r);
        }
        HtmlResultProvider provider = topics -> {
            List<IResult> out = new ArrayList<>();
            for (String t : topics) {
                out.addAll(byTopic.getOrDefault(t, List.of()));
            }
            return out;
        };
        return RulesHtmlToolkit.generateStructuredHtml(provider, groups, new HashMap<>(), true);
    }

    private static void collectTopics(List<HtmlResultGroup> groups, Set<String> into) {
        for (HtmlResultGroup g : groups) {
            into.addAll(g.getTopics());
            collectTopics(g.getChildren(), into);
        }
    }

    /** JMC's groups (Java Application, Memory, ...), or none when its file is missing or unreadable. */
    private static List<HtmlResultGroup> jmcGroups() throws IOException {
        try (InputStream in = JfrHtmlRulesReport.class.getResourceAsStream("resultgroups.xml")) {
            if (in == null) {
                return List.of(new Group("Other", ICON, List.of(""), List.of()));
            }
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setExpandEntityReferences(false);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            return groups(f.newDocumentBuilder().parse(in).getDocumentElement());
        } catch (javax.xml.parsers.ParserConfigurationException | org.xml.sax.SAXException e) {
            throw new IOException("JMC's resultgroups.xml: " + e.getMessage(), e);
        }
    }

    private static List<HtmlResultGroup> groups(Element parent) {
        List<HtmlResultGroup> out = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getNodeName().equals("group")) {
                List<String> topics = new ArrayList<>();
                for (Node c = e.getFirstChild(); c != null; c = c.getNextSibling()) {
                    if (c instanceof Element t && t.getNodeName().equals("topic") && t.hasAttribute("name")) {
                        topics.add(t.getAttribute("name"));
                    }
                }
                out.add(new Group(e.getAttribute("name"), e.hasAttribute("image") ? e.getAttribute("image") : null,
                        List.copyOf(topics), groups(e)));
            }
        }
        return out;
    }
}
