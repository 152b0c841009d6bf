#!/usr/bin/env bash
# Deploys (or tears down) the pgfailover stack: cloudformation/pgfailover.yaml, one stack for the whole setup.
#   scripts/deploy.sh STACK [PARAMS_JSON]   # create or update; PARAMS_JSON defaults to cloudformation/params/example.json
#   scripts/deploy.sh --delete STACK        # teardown: deletes the stack and waits until it is gone
# Needs the AWS CLI v2 with credentials for the target account and region (AWS_PROFILE, AWS_REGION, ...).
# Exit codes: 0 done; 2 bad usage or the AWS CLI is missing; else the AWS CLI's code.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPLATE=cloudformation/pgfailover.yaml

usage() {
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

if ! command -v aws >/dev/null 2>&1; then
  echo "deploy.sh: the AWS CLI (aws) is not installed." >&2
  echo "  install AWS CLI v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html" >&2
  exit 2
fi

if [ "${1:-}" = "--delete" ]; then
  [ $# -eq 2 ] || usage
  stack=$2
  echo "deploy.sh: deleting stack $stack (instances, their volumes and the PostgreSQL data on them go with it)"
  aws cloudformation delete-stack --stack-name "$stack"
  aws cloudformation wait stack-delete-complete --stack-name "$stack"
  echo "deploy.sh: stack $stack deleted"
  exit 0
fi

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ "${1#-}" != "$1" ]; then usage; fi
stack=$1
params=${2:-cloudformation/params/example.json}
[ -r "$params" ] || { echo "deploy.sh: cannot read parameters file $params" >&2; exit 2; }

param() {
  python3 -c 'import json,sys; print(next((p["ParameterValue"] for p in json.load(open(sys.argv[1])) if p["ParameterKey"]==sys.argv[2]), ""))' "$params" "$1"
}

# The controller jar must be in place before the NAT/control instances boot: they download it from ArtifactUrl and
# install it only if its SHA-256 is ArtifactSha256. A mismatch found here saves a boot that would fail.
artifact=$(param ArtifactUrl)
sha=$(param ArtifactSha256)
if [ -n "$artifact" ]; then
  if ! aws s3 ls "$artifact" >/dev/null 2>&1; then
    echo "deploy.sh: $artifact is not there (or not readable with these credentials). Build and copy the jar first:" >&2
    echo "  mvn -B -pl controller -am package -DskipTests && aws s3 cp controller/target/failoverctl.jar $artifact" >&2
    echo "  and put its checksum (sha256sum controller/target/failoverctl.jar) in ArtifactSha256 in $params" >&2
    exit 2
  fi
  actual=$(aws s3 cp "$artifact" - | sha256sum | cut -d' ' -f1)
  if [ "$(printf '%s' "$sha" | tr 'A-F' 'a-f')" != "$actual" ]; then
    echo "deploy.sh: $artifact has SHA-256 $actual, but ArtifactSha256 in $params is '${sha}': the instances would refuse it." >&2
    echo "  take it from your build: sha256sum controller/target/failoverctl.jar; if that is not $actual, upload your build again" >&2
    exit 2
  fi
fi

# The template is larger than the 51,200 bytes CloudFormation takes inline: it goes through the artifact's bucket.
bucket=${artifact#s3://}
bucket=${bucket%%/*}
if [ -z "$bucket" ]; then
  echo "deploy.sh: ArtifactUrl is empty in $params: the template is uploaded to that bucket (it is over 51,200 bytes)" >&2
  exit 2
fi
echo "deploy.sh: deploying $TEMPLATE as stack $stack with $params (template through s3://$bucket/pgfailover/templates/)"
aws cloudformation deploy \
  --template-file "$TEMPLATE" \
  --s3-bucket "$bucket" \
  --s3-prefix pgfailover/templates \
  --stack-name "$stack" \
  --parameter-overrides "file://$params" \
  --capabilities CAPABILITY_IAM \
  --no-fail-on-empty-changeset

echo
echo "deploy.sh: outputs of $stack"
aws cloudformation describe-stacks --stack-name "$stack" \
  --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output table

active=$(aws cloudformation describe-stacks --stack-name "$stack" \
  --query "Stacks[0].Outputs[?OutputKey=='ActiveControllerInstanceId'].OutputValue" --output text)
cat <<EOF

Next steps
  1. The instances finish booting a few minutes after the stack: PostgreSQL and its node agent
     (pgfailover-agent) are installed on both database instances, the standby cloned, and on $active the
     controller writes /etc/pgfailover/controller.yaml from these outputs and starts.
     Follow it:  aws ssm start-session --target $active
                 sudo tail -f /var/log/pgfailover-bootstrap.log; journalctl -u pgfailover -f
  2. Check it:   sudo -u pgfailover java -jar /opt/pgfailover/failoverctl.jar preflight
                 java -jar /opt/pgfailover/failoverctl.jar status
  3. A config for elsewhere (e.g. your laptop, with credentials allowed cloudformation:DescribeStacks):
                 failoverctl config from-stack --stack $stack --region \$AWS_REGION --out controller.yaml
  4. A new controller build: aws s3 cp controller/target/failoverctl.jar $artifact, set ArtifactSha256 in
     $params to its sha256sum and deploy again; on the instance re-download it, check it with
     sha256sum, install it at /opt/pgfailover/failoverctl.jar and: sudo systemctl restart pgfailover
     (on the database instances: sudo systemctl restart pgfailover-agent)
  5. Applications: put them in the AppSecurityGroupId group and connect to the VirtualIp address.
  6. Notifications: with NotificationEmail set, confirm the subscription in the mail SNS sent; subscribe
     anything else to NotificationTopicArn. The alarms are named pgfailover-<ClusterName>-* in CloudWatch.
Teardown: scripts/deploy.sh --delete $stack
EOF
