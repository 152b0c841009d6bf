#!/bin/bash
# Starts LocalStack in the foreground, as LocalStack's own image does. Testcontainers'
# LocalStackContainer runs this path (it writes a start script that calls it).
set -euo pipefail
exec /opt/localstack/bin/python -m localstack.runtime.main
