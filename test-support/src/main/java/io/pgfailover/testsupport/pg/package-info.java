/**
 * A real PostgreSQL primary and streaming standby for tests: {@link
 * io.pgfailover.testsupport.pg.PostgresPairExtension} for JUnit 5, {@link
 * io.pgfailover.testsupport.pg.PostgresPair} without it.
 */
package io.pgfailover.testsupport.pg;
