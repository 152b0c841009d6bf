#!/usr/bin/env bash
# Checks scripts/lib/build.sh. ensure_built, on a scratch tree with a stand-in mvn: it builds when its output is
# missing or a source, resource or pom it is built from is newer, says so, and stays quiet otherwise (test code
# and other modules do not count). build_mvn, with the real Maven on this repository: nothing on screen carries
# an escape character or an [ERROR]. Run by scripts/test.sh; exit 0 when every check holds.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
# shellcheck source=scripts/lib/build.sh
. scripts/lib/build.sh

fail() { echo "tests/build.sh: FAILED: $*" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir -p bin pg-probe/src/main/java aws-adapter/src/main/resources controller/src/main/java controller/src/test/java \
  test-support/src/main/java
touch pom.xml pg-probe/pom.xml aws-adapter/pom.xml controller/pom.xml test-support/pom.xml \
  pg-probe/src/main/java/Probe.java aws-adapter/src/main/resources/aws.properties controller/src/main/java/Ctl.java \
  controller/src/test/java/CtlTest.java test-support/src/main/java/Lab.java
cat >bin/mvn <<'MVN'
#!/bin/sh
# Stand-in for Maven: records how it was called and makes what a package build makes.
echo "MAVEN_OPTS=$MAVEN_OPTS mvn $*" >>mvn.log
mkdir -p controller/target test-support/target
touch controller/target/failoverctl.jar
MVN
chmod +x bin/mvn
PATH=$work/bin:$PATH
touch mvn.log

# Every input back to 2020, then the named files into the future: only those are newer than a fresh build.
change() {
  find pom.xml ./*/pom.xml ./*/src -type f -exec touch -d 2020-01-01 {} +
  [ $# -eq 0 ] || touch -d 'now + 1 hour' "$@"
}

# expect_build WHAT (yes|no) [SAID]: runs ensure_built WHAT; checks whether it called mvn and what it said.
expect_build() {
  local what=$1 want=$2 said=${3:-} before after err
  before=$(wc -l <mvn.log)
  err=$(ensure_built "$what" 2>&1) || fail "ensure_built $what exited non-zero: $err"
  after=$(wc -l <mvn.log)
  if [ "$want" = yes ]; then
    [ "$after" -eq $((before + 1)) ] || fail "ensure_built $what did not build (after: ${said:-nothing changed})"
    case $err in *"$said"*) ;; *) fail "ensure_built $what said '$err', expected it to say '$said'" ;; esac
  else
    [ "$after" -eq "$before" ] || fail "ensure_built $what built though nothing it is built from changed"
    [ -z "$err" ] || fail "ensure_built $what said '$err' without building"
  fi
}

change
expect_build jar yes "build: no controller/target/failoverctl.jar yet: building it"
tail -n 1 mvn.log | grep -q -- "-Djansi.noreset=true mvn -B -q -Dstyle.color=never " \
  || fail "Maven not called quiet, in batch mode and without colour: $(tail -n 1 mvn.log)"
change
expect_build jar no
change controller/src/test/java/CtlTest.java test-support/src/main/java/Lab.java
expect_build jar no
change controller/src/main/java/Ctl.java
expect_build jar yes "build: controller/src/main/java/Ctl.java is newer than controller/target/failoverctl.jar"
change aws-adapter/src/main/resources/aws.properties
expect_build jar yes "aws-adapter/src/main/resources/aws.properties is newer"
change pom.xml
expect_build jar yes "pom.xml is newer"
change
expect_build lab yes "build: no test-support/target/lab-classpath.txt yet"
tail -n 1 mvn.log | grep -q -- "-pl test-support -am package dependency:build-classpath" \
  || fail "the lab build does not write the classpath: $(tail -n 1 mvn.log)"
change controller/src/main/java/Ctl.java
expect_build lab no
change test-support/src/main/java/Lab.java
expect_build lab yes "test-support/src/main/java/Lab.java is newer"

# The real Maven, as the scripts run it, on this repository: a clean screen.
cd "$repo"
out=$(PATH=${PATH#"$work/bin:"} build_mvn -N validate 2>&1) || fail "mvn -N validate failed: $out"
if printf '%s' "$out" | grep -q $'\e'; then fail "Maven's output has escape characters: $(printf '%s' "$out" | od -c | head -3)"; fi
if printf '%s' "$out" | grep -q '\[ERROR\]'; then fail "Maven's output has an [ERROR]: $out"; fi
echo "tests/build.sh: ok (ensure_built builds exactly when needed; Maven's output is clean)"
