"""The boto3/botocore side of `make bench` (the peer), one measurement per process.

    python3 bench/peer.py MODE [ARGS...]

Each mode prints one JSON object per line on stdout. Credentials for the emulator come from
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (set by bench/run.lua) and are passed explicitly.
Exits 77 when boto3 cannot be imported, so the runner can mark the peer absent.

Modes:
  probe                               versions of boto3 and botocore
  sign     SECONDS RUNS               SigV4Auth.add_auth throughput on the requests sign_bench signs
  calls    ENDPOINT ARN N WARMUP      N sequential get_channel calls after WARMUP untimed ones
  memory   ENDPOINT ARN N CHECKPOINT  N get_channel calls; RSS after CHECKPOINT calls and at the end
  conc     ENDPOINT TOTAL THREADS     TOTAL create_channel calls from a ThreadPoolExecutor
  scale    ENDPOINT N                 create N channels, then list them all with the paginator
"""
import gc
import json
import os
import sys
import time

try:
    import boto3
    import botocore
    from botocore.config import Config
except ImportError:
    sys.exit(77)

REGION = "us-west-2"


def emit(obj):
    print(json.dumps(obj), flush=True)


def client_for(endpoint, pool=10):
    return boto3.client(
        "ivs",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        config=Config(max_pool_connections=pool),
    )


def rss_kb():
    """VmRSS and VmHWM of this process in kB."""
    values = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                values[line.split(":")[0]] = int(line.split()[1])
    return values["VmRSS"], values["VmHWM"]


def mode_sign(seconds, runs):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    # The same requests, keys and headers as bench/sign_bench.c. Frozen credentials: the
    # signer reads them without any refresh check.
    creds = Credentials("AKIDEXAMPLEBENCH0001", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    frozen = creds.get_frozen_credentials()
    host = "https://ivs.us-west-2.amazonaws.com"
    body = json.dumps(
        {"name": "bench-channel", "latencyMode": "LOW", "type": "STANDARD", "authorized": False,
         "tags": {"team": "games", "env": "bench"}},
        separators=(",", ":"),
    ).encode()
    requests = {
        "create_channel": AWSRequest(method="POST", url=host + "/CreateChannel", data=body,
                                     headers={"Content-Type": "application/json"}),
        "list_tags": AWSRequest(
            method="GET",
            url=host + "/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A123456789012%3Achannel%2FabcdEFGH1234"),
    }
    signer = SigV4Auth(frozen, "ivs", REGION)
    for name, request in requests.items():
        # add_auth replaces its own headers on every call (the retry path), so one request
        # object is re-signed in place: only the signing itself is timed.
        for run in range(runs + 1):
            limit = seconds / 10 if run == 0 else seconds
            n = 0
            start = time.perf_counter()
            while True:
                for _ in range(64):
                    signer.add_auth(request)
                n += 64
                elapsed = time.perf_counter() - start
                if elapsed >= limit:
                    break
            emit({"what": "warmup" if run == 0 else "SigV4Auth.add_auth", "request": name,
                  "signs": n, "seconds": elapsed, "per_second": n / elapsed})


def mode_calls(endpoint, arn, n, warmup):
    client = client_for(endpoint)
    for _ in range(warmup):
        client.get_channel(arn=arn)
    cpu0, t0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        client.get_channel(arn=arn)
    # process_time: user + system CPU of this process only.
    emit({"calls": n, "wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - cpu0})


def mode_memory(endpoint, arn, n, checkpoint):
    client = client_for(endpoint)
    at_checkpoint = None
    for i in range(1, n + 1):
        client.get_channel(arn=arn)
        if i == checkpoint:
            gc.collect()
            at_checkpoint = rss_kb()[0]
    gc.collect()
    rss, hwm = rss_kb()
    emit({"calls": n, "checkpoint": checkpoint, "rss_kb_checkpoint": at_checkpoint,
          "rss_kb_end": rss, "hwm_kb": hwm})


def mode_conc(endpoint, total, threads):
    from concurrent.futures import ThreadPoolExecutor

    # One client shared by every thread (boto3 clients are thread-safe), a pool as wide as
    # the number of threads so no request waits for a connection.
    client = client_for(endpoint, pool=threads)
    client.list_channels(maxResults=1)  # connection set up and models loaded before timing

    def create(i):
        client.create_channel(name="conc-%d" % i)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for _ in pool.map(create, range(total)):
            pass
    emit({"calls": total, "threads": threads, "wall_s": time.perf_counter() - t0})


def mode_scale(endpoint, n):
    client = client_for(endpoint)
    client.list_channels(maxResults=1)
    t0 = time.perf_counter()
    for i in range(1, n + 1):
        client.create_channel(name="scale-%d" % i)
    t1 = time.perf_counter()
    listed = 0
    for page in client.get_paginator("list_channels").paginate(PaginationConfig={"PageSize": 100}):
        listed += len(page["channels"])
    emit({"n": n, "create_s": t1 - t0, "list_s": time.perf_counter() - t1, "listed": listed})


def main(argv):
    mode, args = argv[1], argv[2:]
    if mode == "probe":
        emit({"boto3": boto3.__version__, "botocore": botocore.__version__,
              "python": sys.version.split()[0], "executable": sys.executable})
    elif mode == "sign":
        mode_sign(float(args[0]), int(args[1]))
    elif mode == "calls":
        mode_calls(args[0], args[1], int(args[2]), int(args[3]))
    elif mode == "memory":
        mode_memory(args[0], args[1], int(args[2]), int(args[3]))
    elif mode == "conc":
        mode_conc(args[0], int(args[1]), int(args[2]))
    elif mode == "scale":
        mode_scale(args[0], int(args[1]))
    else:
        print("peer.py: unknown mode " + mode, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
