/**
 * Test support shared by every module: a real PostgreSQL primary/standby pair and the AWS emulator.
 */
package io.pgfailover.testsupport;
