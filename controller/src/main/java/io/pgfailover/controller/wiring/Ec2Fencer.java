package io.pgfailover.controller.wiring;

import io.pgfailover.aws.AwsClients;
import io.pgfailover.aws.FenceResult;
import io.pgfailover.aws.InstanceFencing;
import io.pgfailover.controller.port.Fencer;
import io.pgfailover.controller.port.StepResult;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@link Fencer} over aws-adapter: StopInstances with a bounded wait. */
final class Ec2Fencer implements Fencer {
  private final InstanceFencing fencing;

  Ec2Fencer(AwsClients clients) {
    this.fencing = new InstanceFencing(clients);
  }

  @Override
  public StepResult fence(String instanceId, Duration bound) {
    FenceResult r = fencing.stopInstance(instanceId, bound);
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("api_calls", r.apiCalls());
    r.stateAfter().ifPresent(s -> fields.put("state", s));
    String detail =
        instanceId
            + " "
            + r.outcome().name().toLowerCase()
            + r.reason().map(x -> ": " + x).orElse("");
    if (!r.fenced()) {
      return StepResult.failed(detail, fields);
    }
    return r.outcome() == FenceResult.Outcome.STOPPED
        ? StepResult.done(detail, fields)
        : StepResult.alreadyDone(detail, fields);
  }
}
