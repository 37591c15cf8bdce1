#!/usr/bin/env bash
# Runs ivs-emulator under valgrind through an AWS CLI scenario and the load tool, then checks
# for leaks and errors. Needs valgrind, the AWS CLI and a built tree (make tests).
set -u
VG_DIR=$(mktemp -d)
cd "$(dirname "$0")/../.."
valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect --error-exitcode=99 --log-file=$VG_DIR/vg.log build/ivs-emulator --port 0 --state $VG_DIR/state.json > $VG_DIR/out &
VPID=$!
for i in $(seq 50); do grep -q listening $VG_DIR/out && break; sleep 0.2; done
PORT=$(sed -n 's/.*:\([0-9]*\)$/\1/p' $VG_DIR/out)
export AWS_ACCESS_KEY_ID=AKIAIVSEMULATOR00001 AWS_SECRET_ACCESS_KEY=ivsEmulatorTestSecretAccessKey0000000000 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
E="--endpoint-url http://127.0.0.1:$PORT --region us-west-2"
R=$(aws ivs create-recording-configuration --destination-configuration 's3={bucketName=bucket1}' $E --query recordingConfiguration.arn --output text)
ARN=$(aws ivs create-channel --name vg --recording-configuration-arn $R $E --query channel.arn --output text)
aws ivs tag-resource --resource-arn $ARN --tags a=b $E
curl -s -XPOST 127.0.0.1:$PORT/_emulator/streams/start -d "{\"channelArn\":\"$ARN\"}" >/dev/null
aws ivs put-metadata --channel-arn $ARN --metadata hi $E
aws ivs list-streams $E >/dev/null
aws ivs stop-stream --channel-arn $ARN $E >/dev/null
aws ivs get-stream-session --channel-arn $ARN $E >/dev/null
aws ivs list-channels --max-results 1 $E >/dev/null
aws ivs get-channel --arn nope $E 2>/dev/null
curl -s -XPOST 127.0.0.1:$PORT/_emulator/faults -d '{"operation":"GetChannel","status":500}' >/dev/null
aws ivs get-channel --arn $ARN $E --cli-read-timeout 5 2>/dev/null >/dev/null
curl -s 127.0.0.1:$PORT/_emulator/events >/dev/null
build/tools/emu_load --url http://127.0.0.1:$PORT --threads 2 --seconds 2 --channels 20
curl -s -XPOST 127.0.0.1:$PORT/_emulator/reset >/dev/null
kill -TERM $VPID; wait $VPID; echo "valgrind exit $?"
grep -E "definitely|indirectly|ERROR SUMMARY" $VG_DIR/vg.log
grep -q "All heap blocks were freed" $VG_DIR/vg.log && grep -q "ERROR SUMMARY: 0 errors" $VG_DIR/vg.log; rc=$?; rm -rf "$VG_DIR"; exit $rc
