package io.pgfailover.testsupport.aws;

import org.junit.jupiter.api.Assumptions;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

/**
 * The controller pair's lease table on the emulator, shaped as the CloudFormation stack makes it.
 */
public final class LeaseTableFixture {
  private LeaseTableFixture() {}

  /**
   * Why the lease's tests do not run on LocalStack: LocalStack serves DynamoDB by running Amazon's
   * DynamoDB Local, which it downloads at run time from Amazon (not reachable here; every call then
   * retries for a minute and fails) and which this project's image does not carry (Amazon's own
   * licence, not an open-source one). The lease's conditional writes are tested on moto.
   */
  public static final String NOT_ON_LOCALSTACK =
      "LocalStack's DynamoDB needs Amazon's DynamoDB Local, which the image does not carry: the"
          + " lease is tested on moto";

  /**
   * Creates {@code name} (partition key {@code cluster}, a string; on-demand) and returns its name.
   * On LocalStack the calling test is skipped instead ({@link #NOT_ON_LOCALSTACK}).
   */
  public static String create(AwsEmulatorExtension aws, String name) {
    Assumptions.assumeFalse(aws.emulatorName().equals("localstack"), NOT_ON_LOCALSTACK);
    try (DynamoDbClient ddb = client(aws)) {
      return create(ddb, name);
    }
  }

  /** The same on any emulator endpoint (the netns lab's moto on its router). */
  public static String create(DynamoDbClient ddb, String name) {
    ddb.createTable(
        b ->
            b.tableName(name)
                .billingMode(BillingMode.PAY_PER_REQUEST)
                .attributeDefinitions(
                    AttributeDefinition.builder()
                        .attributeName("cluster")
                        .attributeType(ScalarAttributeType.S)
                        .build())
                .keySchema(
                    KeySchemaElement.builder()
                        .attributeName("cluster")
                        .keyType(KeyType.HASH)
                        .build()));
    ddb.waiter().waitUntilTableExists(b -> b.tableName(name));
    return name;
  }

  /** A plain client for assertions (read the item as an operator would). Close it. */
  public static DynamoDbClient client(AwsEmulatorExtension aws) {
    return DynamoDbClient.builder()
        .endpointOverride(aws.endpoint())
        .region(Region.of(aws.region()))
        .credentialsProvider(aws.credentialsProvider())
        .httpClientBuilder(UrlConnectionHttpClient.builder())
        .build();
  }
}
