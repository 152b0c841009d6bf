package io.pgfailover.controller.config;

import java.util.HashSet;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.composer.Composer;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.events.AliasEvent;
import org.yaml.snakeyaml.events.CollectionEndEvent;
import org.yaml.snakeyaml.events.CollectionStartEvent;
import org.yaml.snakeyaml.events.Event;
import org.yaml.snakeyaml.parser.Parser;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.reader.StreamReader;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * Composes one YAML document into nodes (which keep their line numbers), refusing what no
 * controller config needs and a hostile file uses to exhaust memory or the stack: many aliases to
 * lists or mappings (a "billion laughs"), deep nesting, a huge text. Every refusal names the line
 * it was found on, so {@code config check} can report it like any other error.
 */
final class BoundedYaml {
  /** Aliases to a list or mapping; a config may reuse a block or two, a YAML bomb needs dozens. */
  static final int MAX_ALIASES = 20;

  /** Lists and mappings inside each other; the deepest config field (nodes[].jdbc.x) is at 4. */
  static final int MAX_DEPTH = 10;

  /** The document is not YAML, or passes a limit, at {@code line} (1-based; 0: unknown). */
  static final class Refused extends Exception {
    private static final long serialVersionUID = 1L;
    final int line;
    final String problem;
    final String fix;

    Refused(int line, String problem, String fix) {
      super(problem);
      this.line = line;
      this.problem = problem;
      this.fix = fix;
    }
  }

  private BoundedYaml() {}

  /**
   * The document's root node, or null for an empty document.
   *
   * @param maxCodePoints the longest text accepted
   */
  static org.yaml.snakeyaml.nodes.Node compose(String yaml, int maxCodePoints) throws Refused {
    LoaderOptions options = new LoaderOptions();
    options.setCodePointLimit(maxCodePoints);
    // SnakeYAML's own limits stay as a second line behind the ones counted here.
    options.setMaxAliasesForCollections(MAX_ALIASES + 1);
    options.setNestingDepthLimit(MAX_DEPTH + 1);
    options.setAllowRecursiveKeys(false);
    Counting parser = new Counting(new ParserImpl(new StreamReader(yaml), options));
    try {
      return new Composer(parser, new Resolver(), options).getSingleNode();
    } catch (Limit e) {
      throw new Refused(line(e.at), e.problem, e.fix);
    } catch (MarkedYAMLException e) {
      throw new Refused(
          line(e.getProblemMark()),
          "not valid YAML: " + e.getProblem(),
          "fix the YAML syntax at that line (indentation, a missing colon or quote)");
    } catch (YAMLException e) {
      // Unmarked: SnakeYAML's own limits (text length among them); the last event read is where.
      throw new Refused(
          line(parser.last),
          "not accepted as YAML: " + e.getMessage(),
          "a controller config is a few kB of plain key: value lines; start from"
              + " config/controller.example.yaml");
    }
  }

  private static int line(Mark mark) {
    return mark == null ? 0 : mark.getLine() + 1;
  }

  private static final class Limit extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final transient Mark at;
    final String problem;
    final String fix;

    Limit(Mark at, String problem, String fix) {
      super(problem, null, false, false);
      this.at = at;
      this.problem = problem;
      this.fix = fix;
    }
  }

  /** Passes the parser's events to the composer, counting nesting and aliases on the way. */
  private static final class Counting implements Parser {
    private final Parser in;
    private final Set<String> collectionAnchors = new HashSet<>();
    private int depth;
    private int aliases;
    private Mark last;

    Counting(Parser in) {
      this.in = in;
    }

    @Override
    public boolean checkEvent(Event.ID choice) {
      return in.checkEvent(choice);
    }

    @Override
    public Event peekEvent() {
      return in.peekEvent();
    }

    @Override
    public Event getEvent() {
      Event e = in.getEvent();
      last = e.getStartMark();
      if (e instanceof CollectionStartEvent c) {
        if (c.getAnchor() != null) {
          collectionAnchors.add(c.getAnchor());
        }
        if (++depth > MAX_DEPTH) {
          throw new Limit(
              last,
              "nests lists and mappings deeper than " + MAX_DEPTH + " levels",
              "a controller config nests at most 4 levels: check the indentation and brackets");
        }
      } else if (e instanceof CollectionEndEvent) {
        depth--;
      } else if (e instanceof AliasEvent a
          && collectionAnchors.contains(a.getAnchor())
          && ++aliases > MAX_ALIASES) {
        throw new Limit(
            last,
            "has more than " + MAX_ALIASES + " aliases to lists or mappings",
            "write the values out: a controller config needs no more than a few aliases");
      }
      return e;
    }
  }
}
