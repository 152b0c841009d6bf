package io.pgfailover.controller.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgfailover.controller.port.PostgresNodes;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ForwardingPostgresNodesTest {
  /** A method added to the interface with a default would otherwise skip the real one unseen. */
  @Test
  void passesOnEveryMethodOfTheInterface() {
    List<String> notForwarded =
        Arrays.stream(PostgresNodes.class.getMethods())
            .filter(m -> !Modifier.isStatic(m.getModifiers()))
            .filter(m -> !declares(m))
            .map(Method::toString)
            .toList();
    assertEquals(List.of(), notForwarded, "methods ForwardingPostgresNodes must pass on");
  }

  private static boolean declares(Method m) {
    try {
      ForwardingPostgresNodes.class.getDeclaredMethod(m.getName(), m.getParameterTypes());
      return true;
    } catch (NoSuchMethodException e) {
      return false;
    }
  }
}
