# shellcheck shell=bash
# What the scripts run from a checkout, built when it is missing or older than a file it is built from.
# Source it from the repository root; then:
#   ensure_built jar   controller/target/failoverctl.jar, from pg-probe, aws-adapter and controller
#   ensure_built lab   test-support's classes and runtime classpath (test-support/target/lab-classpath.txt)
# It says when and why it builds; Maven runs quiet, in batch mode and without colour, its output on stderr.

# Maven as the scripts run it. Debian's Maven 3.8 writes terminal resets (ESC [0m) even in batch mode:
# jansi.noreset stops them, so a newcomer's first screen has no raw escapes.
build_mvn() {
  MAVEN_OPTS="${MAVEN_OPTS:-} -Djansi.noreset=true" mvn -B -q -Dstyle.color=never "$@"
}

ensure_built() {
  local what=${1:-} stamp newer module
  local inputs=(pom.xml)
  case $what in
    jar) stamp=controller/target/failoverctl.jar; set -- pg-probe aws-adapter controller ;;
    lab) stamp=test-support/target/lab-classpath.txt; set -- test-support ;;
    *) echo "ensure_built: say jar or lab, not '$what'" >&2; return 2 ;;
  esac
  # Sources and resources (src/main) and the poms: test code never goes into what is run.
  for module in "$@"; do inputs+=("$module/pom.xml" "$module/src/main"); done
  if [ -f "$stamp" ]; then
    newer=$(find "${inputs[@]}" -type f -newer "$stamp" -print -quit)
    [ -n "$newer" ] || return 0
    echo "build: $newer is newer than $stamp: building it again (mvn package)" >&2
  else
    echo "build: no $stamp yet: building it (mvn package)" >&2
  fi
  case $what in
    jar) build_mvn -Dmaven.test.skip=true -pl controller -am package >&2 ;;
    lab)
      build_mvn -Dmaven.test.skip=true -pl test-support -am package dependency:build-classpath \
        -Dmdep.outputFile="$PWD/$stamp" -Dmdep.includeScope=runtime >&2
      ;;
  esac
  # The stamp marks this build even where Maven left an up-to-date file untouched.
  touch "$stamp"
}
