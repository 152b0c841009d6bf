package io.pgfailover.testsupport.pg;

import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension: one real {@link PostgresPair} per test class, started before the first test
 * and always removed after the last (and by the JVM shutdown hook and the next run's sweep if the
 * JVM dies).
 *
 * <pre>{@code
 * @RegisterExtension static PostgresPairExtension pg = new PostgresPairExtension();
 * }</pre>
 *
 * or {@code @ExtendWith(PostgresPairExtension.class)} with a {@link PostgresPair} test or
 * constructor parameter. Register it on a static field: an instance field cannot take part in
 * class-level callbacks.
 */
public final class PostgresPairExtension
    implements BeforeAllCallback, AfterAllCallback, ParameterResolver {

  private final Supplier<PairLayout> layout;
  private volatile PostgresPair pair;

  /** A loopback pair as {@link PostgresPair#start()} makes it. */
  public PostgresPairExtension() {
    this(PairLayout::loopback);
  }

  /**
   * A pair placed as {@code layout} says, asked for when the class starts (a loopback layout picks
   * its free ports then), e.g. {@code () -> PairLayout.loopback().withRewindable(true)}.
   */
  public PostgresPairExtension(Supplier<PairLayout> layout) {
    this.layout = layout;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    pair = PostgresPair.start(PostgresPair.clustersRoot(), layout.get());
  }

  @Override
  public void afterAll(ExtensionContext context) {
    PostgresPair p = pair;
    pair = null;
    if (p != null) {
      p.close();
    }
  }

  @Override
  public boolean supportsParameter(
      ParameterContext parameterContext, ExtensionContext extensionContext) {
    return parameterContext.getParameter().getType() == PostgresPair.class;
  }

  @Override
  public Object resolveParameter(
      ParameterContext parameterContext, ExtensionContext extensionContext) {
    return pair();
  }

  /** The running pair; only between beforeAll and afterAll. */
  public PostgresPair pair() {
    PostgresPair p = pair;
    if (p == null) {
      throw new IllegalStateException(
          "no PostgreSQL pair: register PostgresPairExtension on a static field (or with"
              + " @ExtendWith)");
    }
    return p;
  }

  public List<PgNode> nodes() {
    return pair().nodes();
  }

  public PgNode nodeA() {
    return pair().nodeA();
  }

  public PgNode nodeB() {
    return pair().nodeB();
  }

  public PgNode primary() {
    return pair().primary();
  }

  public PgNode standby() {
    return pair().standby();
  }

  public PgNode killPrimary() {
    return pair().killPrimary();
  }

  public void kill(PgNode node) {
    pair().kill(node);
  }

  public void freeze(PgNode node) {
    pair().freeze(node);
  }

  public void thaw(PgNode node) {
    pair().thaw(node);
  }

  public void stop(PgNode node) {
    pair().stop(node);
  }

  public void start(PgNode node) {
    pair().start(node);
  }

  public void promote(PgNode node) {
    pair().promote(node);
  }

  public void recreateStandby() {
    pair().recreateStandby();
  }

  public void recreateStandby(PgNode node) {
    pair().recreateStandby(node);
  }

  public void refreshRoles() {
    pair().refreshRoles();
  }
}
