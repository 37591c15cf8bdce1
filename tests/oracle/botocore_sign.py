#!/usr/bin/env python3
"""Signs one request with botocore, as an independent oracle for the C signer's tests.

Reads a JSON object on stdin:
  {"method": "POST", "url": "https://host/path?query", "headers": [["Name", "value"], ...],
   "body": "text" (UTF-8), "region": "us-west-2", "service": "ivs", "time": 1440938160,
   "access_key_id": "...", "secret_access_key": "...", "session_token": null,
   "presign": false, "expires": 3600}
and prints {"canonical_request", "string_to_sign", "authorization"} (header mode) or
{"canonical_request", "string_to_sign", "url"} (presign mode) as JSON.

Time is frozen the way botocore's own tests do it: by patching the clock the signer reads.
Exits 77 when botocore cannot be imported, so callers can skip.
"""
import datetime
import json
import sys
from unittest import mock

try:
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError:
    sys.exit(77)


def recording(base):
    class Recording(base):
        def canonical_request(self, request):
            self.recorded_creq = super().canonical_request(request)
            return self.recorded_creq

        def string_to_sign(self, request, canonical_request):
            self.recorded_sts = super().string_to_sign(request, canonical_request)
            return self.recorded_sts

    return Recording


def main():
    spec = json.load(sys.stdin)
    creds = Credentials(spec["access_key_id"], spec["secret_access_key"],
                        spec.get("session_token") or None)
    body = spec.get("body") or ""
    request = AWSRequest(method=spec["method"], url=spec["url"], data=body.encode("utf-8"))
    for name, value in spec.get("headers") or []:
        request.headers[name] = value
    if spec.get("presign"):
        signer = recording(botocore.auth.SigV4QueryAuth)(
            creds, spec["service"], spec["region"], expires=spec.get("expires", 3600))
    else:
        signer = recording(botocore.auth.SigV4Auth)(creds, spec["service"], spec["region"])
    frozen = datetime.datetime.fromtimestamp(spec["time"], datetime.timezone.utc).replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", return_value=frozen):
        signer.add_auth(request)
    out = {"canonical_request": signer.recorded_creq, "string_to_sign": signer.recorded_sts}
    if spec.get("presign"):
        out["url"] = request.url
    else:
        out["authorization"] = request.headers["Authorization"]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
