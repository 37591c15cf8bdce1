#!/usr/bin/env python3
"""boto3's ivschat and ivs-realtime clients against ivs-emulator: every Chat and Real-Time
operation through an independent serializer, signer and parser (botocore reads responses with
its own copy of the models, so a wrong type or timestamp format fails here).

Usage: emulator_family_boto3.py http://127.0.0.1:PORT   (exit 0 when every check holds)
"""
import json
import subprocess
import sys
import urllib.request

import boto3
from botocore.exceptions import ClientError

ENDPOINT = sys.argv[1]
KW = dict(
    endpoint_url=ENDPOINT,
    region_name="us-west-2",
    aws_access_key_id="AKIAIVSEMULATOR00001",
    aws_secret_access_key="ivsEmulatorTestSecretAccessKey0000000000",
)
chat = boto3.client("ivschat", **KW)
rt = boto3.client("ivs-realtime", **KW)
ivs = boto3.client("ivs", **KW)
called = set()


def call(client, op, **params):
    called.add(op)
    return getattr(client, op)(**params)


def fails(code, client, op, **params):
    try:
        getattr(client, op)(**params)
    except ClientError as e:
        assert e.response["Error"]["Code"] == code, (op, e.response["Error"])
        return e.response
    raise AssertionError(f"{op} should fail with {code}")


def admin(path, body):
    req = urllib.request.Request(ENDPOINT + "/_emulator" + path, data=json.dumps(body).encode(),
                                 method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


# Chat
lc = call(chat, "create_logging_configuration",
          destinationConfiguration={"s3": {"bucketName": "boto-logs"}}, tags={"a": "b"})
assert lc["state"] == "ACTIVE" and len(lc["id"]) == 12
room = call(chat, "create_room", name="boto", loggingConfigurationIdentifiers=[lc["arn"]])
assert room["maximumMessageLength"] == 500 and room["createTime"].tzinfo is not None
assert call(chat, "get_room", identifier=room["arn"])["name"] == "boto"
assert call(chat, "update_room", identifier=room["arn"], maximumMessageLength=10)["maximumMessageLength"] == 10
assert [r["arn"] for r in call(chat, "list_rooms", name="boto")["rooms"]] == [room["arn"]]
assert call(chat, "get_logging_configuration", identifier=lc["arn"])["arn"] == lc["arn"]
assert call(chat, "update_logging_configuration", identifier=lc["arn"], name="renamed")["name"] == "renamed"
assert call(chat, "list_logging_configurations")["loggingConfigurations"]
tok = call(chat, "create_chat_token", roomIdentifier=room["arn"], userId="u", capabilities=["SEND_MESSAGE"])
assert tok["token"].startswith("AQICAH") and tok["sessionExpirationTime"] > tok["tokenExpirationTime"]
assert len(call(chat, "send_event", roomIdentifier=room["arn"], eventName="e")["id"]) == 12
assert len(call(chat, "delete_message", roomIdentifier=room["arn"], id="AAAAAAAAAAAA")["id"]) == 12
call(chat, "disconnect_user", roomIdentifier=room["arn"], userId="u")
call(chat, "tag_resource", resourceArn=room["arn"], tags={"k": "v"})
call(chat, "untag_resource", resourceArn=room["arn"], tagKeys=["k"])
assert call(chat, "list_tags_for_resource", resourceArn=room["arn"])["tags"] == {}
fails("ConflictException", chat, "delete_logging_configuration", identifier=lc["arn"])
call(chat, "delete_room", identifier=room["arn"])
call(chat, "delete_logging_configuration", identifier=lc["arn"])
gone = fails("ResourceNotFoundException", chat, "get_room", identifier=room["arn"])
assert gone.get("resourceType") == "ROOM" and gone.get("resourceId") == room["id"], gone

# Real-Time
stage = call(rt, "create_stage", name="boto", participantTokenConfigurations=[{"userId": "a"}])
sarn = stage["stage"]["arn"]
ptok = stage["participantTokens"][0]
assert ptok["token"].count(".") == 2 and ptok["expirationTime"].tzinfo is not None
assert call(rt, "get_stage", arn=sarn)["stage"]["endpoints"]["events"] == "wss://global.events.live-video.net"
call(rt, "update_stage", arn=sarn, name="boto2")
assert call(rt, "list_stages")["stages"]
token = call(rt, "create_participant_token", stageArn=sarn, userId="p")["participantToken"]
joined = admin("/stages/join", {"token": token["token"]})
pid, session = joined["participant"]["participantId"], joined["sessionId"]
admin("/stages/publish", {"stageArn": sarn, "participantId": pid})
assert call(rt, "get_stage_session", stageArn=sarn, sessionId=session)["stageSession"]["startTime"]
assert call(rt, "list_stage_sessions", stageArn=sarn)["stageSessions"]
assert call(rt, "get_participant", stageArn=sarn, sessionId=session, participantId=pid)["participant"]["published"]
assert call(rt, "list_participants", stageArn=sarn, sessionId=session)["participants"]
events = call(rt, "list_participant_events", stageArn=sarn, sessionId=session, participantId=pid)["events"]
assert [e["name"] for e in events] == ["PUBLISH_STARTED", "JOINED"]
dest = call(rt, "create_stage")["stage"]["arn"]
call(rt, "start_participant_replication", sourceStageArn=sarn, destinationStageArn=dest, participantId=pid)
assert call(rt, "list_participant_replicas", sourceStageArn=sarn, participantId=pid)["replicas"][0]["replicationState"] == "ACTIVE"
out = call(rt, "stop_participant_replication", sourceStageArn=sarn, destinationStageArn=dest, participantId=pid)
assert out["xFrameOptions"] == "DENY" and out["accessControlAllowOrigin"] == "*"
call(rt, "disconnect_participant", stageArn=sarn, participantId=pid)

enc = call(rt, "create_encoder_configuration", name="e")["encoderConfiguration"]
assert enc["video"]["framerate"] == 30
assert call(rt, "get_encoder_configuration", arn=enc["arn"])["encoderConfiguration"]["arn"] == enc["arn"]
assert call(rt, "list_encoder_configurations")["encoderConfigurations"]
sto = call(rt, "create_storage_configuration", s3={"bucketName": "boto-rec"})["storageConfiguration"]
assert call(rt, "get_storage_configuration", arn=sto["arn"])["storageConfiguration"]["s3"]["bucketName"] == "boto-rec"
assert call(rt, "list_storage_configurations")["storageConfigurations"]
channel = ivs.create_channel(name="boto")["channel"]["arn"]
comp = call(rt, "start_composition", stageArn=sarn,
            destinations=[{"channel": {"channelArn": channel, "encoderConfigurationArn": enc["arn"]}},
                          {"s3": {"storageConfigurationArn": sto["arn"], "encoderConfigurationArns": [enc["arn"]]}}])
carn = comp["composition"]["arn"]
assert comp["composition"]["state"] == "STARTING"
assert call(rt, "get_composition", arn=carn)["composition"]["state"] == "ACTIVE"
assert call(rt, "list_compositions", filterByStageArn=sarn)["compositions"][0]["arn"] == carn
fails("ConflictException", rt, "delete_encoder_configuration", arn=enc["arn"])
call(rt, "stop_composition", arn=carn)
call(rt, "delete_encoder_configuration", arn=enc["arn"])
call(rt, "delete_storage_configuration", arn=sto["arn"])

ic = call(rt, "create_ingest_configuration", ingestProtocol="RTMPS", stageArn=sarn)["ingestConfiguration"]
assert ic["streamKey"].startswith("rt_123456789012_us-west-2_")
assert call(rt, "get_ingest_configuration", arn=ic["arn"])["ingestConfiguration"]["state"] == "INACTIVE"
assert call(rt, "update_ingest_configuration", arn=ic["arn"], stageArn="")["ingestConfiguration"]["stageArn"] == ""
assert call(rt, "list_ingest_configurations")["ingestConfigurations"]
call(rt, "delete_ingest_configuration", arn=ic["arn"])

private = subprocess.run(["openssl", "ecparam", "-name", "secp384r1", "-genkey", "-noout"],
                         check=True, capture_output=True).stdout
pem = subprocess.run(["openssl", "ec", "-pubout"], input=private, check=True,
                     capture_output=True).stdout.decode()
pk = call(rt, "import_public_key", publicKeyMaterial=pem, name="boto")["publicKey"]
assert len(pk["fingerprint"]) == 47
assert call(rt, "get_public_key", arn=pk["arn"])["publicKey"]["name"] == "boto"
assert call(rt, "list_public_keys")["publicKeys"]
call(rt, "delete_public_key", arn=pk["arn"])

call(rt, "tag_resource", resourceArn=sarn, tags={"k": "v"})
call(rt, "untag_resource", resourceArn=sarn, tagKeys=["k"])
assert call(rt, "list_tags_for_resource", resourceArn=sarn)["tags"] == {}
call(rt, "delete_stage", arn=sarn)
call(rt, "delete_stage", arn=dest)
fails("ResourceNotFoundException", rt, "get_stage", arn=sarn)

want = set()
for client in (chat, rt):
    want |= set(client.meta.method_to_api_mapping)
missing = sorted(want - called)
assert not missing, f"not exercised through boto3: {missing}"
print(f"boto3: {len(called)} operations of ivschat and ivs-realtime checked")
