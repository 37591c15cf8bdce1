"""The boto3 side of the cold-start benchmark: import, make a client, one GetChannel, exit.

Usage: python3 bench/cold_boto3.py ENDPOINT ARN (credentials from the environment, as the
Lua script gets them)."""
import os
import sys

import boto3

client = boto3.client(
    "ivs",
    region_name="us-west-2",
    endpoint_url=sys.argv[1],
    aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
)
client.get_channel(arn=sys.argv[2])
