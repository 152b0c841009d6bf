# shellcheck shell=bash
# The LocalStack image for the tests, built here once from the recipe in emulators/localstack/ and cached by a
# hash of that recipe. Sourced after prereqs.sh and docker.sh, with DOCKER_HOST set to an engine that answers.
# No image registry is reachable where the tests run, so the image is made from parts this machine can fetch:
#   debootstrap  (Debian's package) makes a Debian root filesystem from Debian's mirror (image.env: the suite
#                and its packages, trixie for Python >= 3.12),
#   PyPI         gives LocalStack and every package it needs, at the versions requirements.lock pins,
# then `docker import` turns the tree into an image tagged pgfailover/localstack:<LocalStack version>, which
# Testcontainers' LocalStackContainer accepts as localstack/localstack. The image carries the recipe's hash as a
# label: a changed recipe, or an image that is not ours, is rebuilt. A build is imported under a temporary tag
# and tagged only once complete, so a build that died half-way leaves nothing that passes for the image.
LOCALSTACK_RECIPE=emulators/localstack
LOCALSTACK_REPO=pgfailover/localstack
LOCALSTACK_LABEL=io.pgfailover.recipe
LOCALSTACK_BUILD_SECONDS=${LOCALSTACK_BUILD_SECONDS:-1500}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

localstack_version() {
  sed -n 's/^localstack-core==\([^ ]*\).*/\1/p' "$LOCALSTACK_RECIPE/requirements.lock"
}

# What the image is made from: the recipe's files and the build steps below (as bash prints the functions, so
# a changed comment does not rebuild).
localstack_recipe_hash() {
  {
    cat "$LOCALSTACK_RECIPE/image.env" "$LOCALSTACK_RECIPE/requirements.lock" "$LOCALSTACK_RECIPE/docker-entrypoint.sh"
    declare -f build_localstack_image localstack_without_dynamodb
  } | sha256sum | cut -c1-16
}

localstack_image() { echo "$LOCALSTACK_REPO:$(localstack_version)"; }

localstack_image_is_current() {
  local have
  have=$(timeout 30 docker image inspect --format "{{ index .Config.Labels \"$LOCALSTACK_LABEL\" }}" \
    "$(localstack_image)" 2>/dev/null) || return 1
  [ "$have" = "$(localstack_recipe_hash)" ]
}

# Exports PGFAILOVER_LOCALSTACK_IMAGE, building the image if it is missing or stale. Returns 1 on failure.
ensure_localstack_image() {
  local image hash started
  image=$(localstack_image)
  hash=$(localstack_recipe_hash)
  if localstack_image_is_current; then
    say "LocalStack image $image is current (recipe $hash)"
  else
    started=$(date +%s)
    say "building the LocalStack image $image (recipe $hash): debootstrap, then PyPI; minutes, once per recipe"
    # A subshell: its EXIT trap cleans up the build tree and mounts whatever happens inside.
    if ! (build_localstack_image "$image" "$hash"); then
      say "building the LocalStack image failed"
      return 1
    fi
    say "built $image in $(( $(date +%s) - started ))s"
    # The image this one replaced, now untagged.
    timeout 120 docker image prune -f --filter "label=$LOCALSTACK_LABEL" >/dev/null || true
  fi
  export PGFAILOVER_LOCALSTACK_IMAGE=$image
}

# Everything AWS_EMULATOR=localstack needs: an engine, the image, and Testcontainers told not to pull images of
# its own (its reaper Ryuk, an alpine for its checks): no registry answers here. LocalStackEmulator stops its
# container itself; scripts/test.sh removes what a killed JVM left. Returns 1, having said why, on failure.
localstack_prepare() {
  local lock rc=0
  lock=${TMPDIR:-/tmp}/pgfailover-localstack-$(id -u).lock
  # One engine start and one image build at a time on this machine; a cold build took 3 to 7 minutes here.
  if ! exec 9>>"$lock"; then
    say "cannot open the lock file $lock: giving up on LocalStack"
    return 1
  fi
  if ! flock -w 900 9; then
    say "another run held $lock for 15 minutes: giving up on LocalStack"
    exec 9>&-
    return 1
  fi
  ensure_docker_engine && ensure_localstack_image || rc=1
  exec 9>&-
  [ "$rc" = 0 ] || return 1
  export TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_CHECKS_DISABLE=true
  export TESTCONTAINERS_HOST_OVERRIDE=${TESTCONTAINERS_HOST_OVERRIDE:-127.0.0.1}
}

build_localstack_image() {
  local image=$1 hash=$2 work rootfs tmp_tag
  set -euo pipefail
  # shellcheck source=emulators/localstack/image.env
  . "$LOCALSTACK_RECIPE/image.env"
  command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
  work=$(mktemp -d /var/tmp/pgfailover-localstack.XXXXXX)
  rootfs=$work/rootfs
  tmp_tag=$LOCALSTACK_REPO:building-$hash-$$
  # shellcheck disable=SC2064 # expanded now: the trap runs when the subshell exits, after these locals are gone
  trap "localstack_build_cleanup '$rootfs' '$work' '$tmp_tag'" EXIT
  # A signal ends the subshell through exit, so the cleanup above runs then too.
  trap 'exit 130' INT TERM
  # Leftovers of builds that were killed: their temporary tags are never the image.
  docker images --format '{{.Repository}}:{{.Tag}}' "$LOCALSTACK_REPO" | grep ":building-" \
    | xargs -r docker rmi -f >/dev/null 2>&1 || true

  say "debootstrap $DEBIAN_SUITE ($DEBIAN_PACKAGES) from $DEBIAN_MIRROR"
  timeout "$LOCALSTACK_BUILD_SECONDS" debootstrap --variant=minbase --include="$DEBIAN_PACKAGES" \
    "$DEBIAN_SUITE" "$rootfs" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; return 1; }

  cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
  cp "$LOCALSTACK_RECIPE/requirements.lock" "$rootfs/tmp/requirements.lock"
  mount -t proc proc "$rootfs/proc"
  mount --bind /dev "$rootfs/dev"
  # The host's CA bundle, for the install only (read-only, unmounted before the import): a machine whose TLS
  # goes through an inspecting proxy (as this project's do) trusts it there, and the image never carries it.
  mount --bind -o ro /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  say "pip install -r $LOCALSTACK_RECIPE/requirements.lock into /opt/localstack (a venv in the image)"
  # env -i: the host's pip settings (find-links, cert paths) do not exist inside the new root.
  timeout "$LOCALSTACK_BUILD_SECONDS" chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    sh -c 'python3 -m venv /opt/localstack &&
      /opt/localstack/bin/pip install -q --no-cache-dir --disable-pip-version-check --no-deps -r /tmp/requirements.lock &&
      /opt/localstack/bin/pip check' >"$work/pip.log" 2>&1 \
    || { tail -n 20 "$work/pip.log" >&2; return 1; }
  localstack_build_unmount "$rootfs"
  localstack_without_dynamodb "$rootfs"

  install -m 0755 "$LOCALSTACK_RECIPE/docker-entrypoint.sh" "$rootfs/usr/local/bin/docker-entrypoint.sh"
  rm -rf "$rootfs"/tmp/* "$rootfs"/root/.cache "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  : >"$rootfs/etc/resolv.conf"

  say "docker import as $tmp_tag"
  tar -C "$rootfs" -c . | timeout "$LOCALSTACK_BUILD_SECONDS" docker import \
    -c "ENV PATH=/opt/localstack/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    -c 'CMD ["/usr/local/bin/docker-entrypoint.sh"]' \
    -c "EXPOSE 4566" \
    -c "LABEL $LOCALSTACK_LABEL=$hash" \
    - "$tmp_tag" >/dev/null
  docker tag "$tmp_tag" "$image"
}

# LocalStack serves DynamoDB by running Amazon's DynamoDB Local, which it downloads from Amazon at run time (not
# reachable here) and which this image does not carry (Amazon's licence, not an open-source one). Left as it is,
# every DynamoDB call retries for a minute and fails, and so does a stack with a DynamoDB table. The image drops
# those plugins instead: DynamoDB calls fail at once, and LocalStack's CloudFormation skips AWS::DynamoDB::Table
# as an unsupported type (LocalStackEmulator lists it in CFN_IGNORE_UNSUPPORTED_TYPE_CREATE), along with the
# IAM role and instance profile, whose policy names the table's ARN (a skipped resource's ARN reads "unknown",
# which IAM rejects).
localstack_without_dynamodb() {
  local entry_points
  entry_points=$(echo "$1"/opt/localstack/lib/python3*/site-packages/localstack_core-*.dist-info/entry_points.txt)
  [ -f "$entry_points" ] || { say "no LocalStack entry points at $entry_points"; return 1; }
  sed -i -e '/^dynamodb:default = /d' -e '/^dynamodb:v2 = /d' -e '/^aws::dynamodb::table = /d' \
    -e '/^aws::iam::role = /d' -e '/^aws::iam::instanceprofile = /d' "$entry_points"
}

localstack_build_unmount() {
  local rootfs=$1 m
  for m in etc/ssl/certs/ca-certificates.crt dev proc; do
    if grep -q " $rootfs/$m " /proc/self/mounts; then umount "$rootfs/$m" || umount -l "$rootfs/$m"; fi
  done
}

localstack_build_cleanup() {
  local rootfs=$1 work=$2 tmp_tag=$3
  localstack_build_unmount "$rootfs"
  # Never rm -rf a tree that still has a mount inside it (the bind of /dev would take the host's with it).
  if ! grep -q " $work/" /proc/mounts; then rm -rf "$work"; fi
  docker rmi "$tmp_tag" >/dev/null 2>&1 || true
}
