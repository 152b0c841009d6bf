#!/usr/bin/env bash
# The Prometheus alerting rules (monitoring/): valid (promtool check rules) and doing what their unit
# tests say (promtool test rules). promtool comes with Debian's prometheus package (scripts/lib/prereqs.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
promtool check rules monitoring/pgfailover.rules.yml
promtool test rules monitoring/pgfailover.rules.test.yml
