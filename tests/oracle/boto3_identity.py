#!/usr/bin/env python3
"""boto3 against ivs-emulator's identity services, as an independent oracle for them.

Usage: boto3_identity.py http://127.0.0.1:PORT

Drives the sts, sso and sso-oidc clients directly, then botocore's own credential providers
(assume role with source_profile, web identity from a profile, SSO with an sso-session and
its token refresh through SSO-OIDC) with the endpoints pointed at the emulator. Prints one
line per check, "ok NAME" or "not ok NAME: detail". Exits 77 when boto3 cannot be imported.
Everything happens in a throwaway HOME, so the developer's own files are never read.
"""
import base64
import hashlib
import json
import os
import sys
import tempfile
import time
import urllib.request

HOME = tempfile.mkdtemp(prefix="ivs-identity-oracle-")
for k in list(os.environ):
    if k.startswith("AWS_"):
        del os.environ[k]
# botocore computes the SSO cache directory from HOME when it is imported.
os.environ["HOME"] = HOME
os.environ["AWS_CONFIG_FILE"] = os.path.join(HOME, "config")
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(HOME, "credentials")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

try:
    import boto3
    from botocore.exceptions import ClientError
except ImportError:
    sys.exit(77)

E = sys.argv[1]
KEY, SECRET = "AKIAIVSEMULATOR00001", "ivsEmulatorTestSecretAccessKey0000000000"
ROLE = "arn:aws:iam::123456789012:role/app"
failed = 0


def check(name, cond, detail=""):
    global failed
    if cond:
        print("ok " + name)
    else:
        failed += 1
        print("not ok %s: %s" % (name, detail))


def admin(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(E + "/_emulator" + path, data=data, method=method)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"{}")


def code_of(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


def client(service, **kw):
    return boto3.session.Session().client(service, region_name="us-west-2", endpoint_url=E, **kw)


def jwt(claims):
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
    return enc({"alg": "RS256"}) + "." + enc(claims) + ".c2ln"


admin("DELETE", "/identity")
static = dict(aws_access_key_id=KEY, aws_secret_access_key=SECRET)

# 1. The clients, directly.
sts = client("sts", **static)
who = sts.get_caller_identity()
check("sts root identity", who["Arn"] == "arn:aws:iam::123456789012:root", who)
r = sts.assume_role(RoleArn=ROLE, RoleSessionName="oracle", DurationSeconds=1800)
c = r["Credentials"]
left = (c["Expiration"].timestamp() - time.time())
check("assume role credentials", c["AccessKeyId"].startswith("ASIA") and 1790 < left < 1810, left)
check("assumed role user", r["AssumedRoleUser"]["Arn"] ==
      "arn:aws:sts::123456789012:assumed-role/app/oracle", r["AssumedRoleUser"])
temp = dict(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
            aws_session_token=c["SessionToken"])
check("ivs with temporary credentials", "channels" in client("ivs", **temp).list_channels())
who = client("sts", **temp).get_caller_identity()
check("sts assumed identity", who["Arn"] == "arn:aws:sts::123456789012:assumed-role/app/oracle"
      and who["UserId"].startswith("AROA") and who["Account"] == "123456789012", who)
check("role chaining limit", code_of(lambda: client("sts", **temp).assume_role(
    RoleArn=ROLE, RoleSessionName="x2", DurationSeconds=7200)) == "ValidationError")
admin("POST", "/identity/expire", {"accessKeyId": c["AccessKeyId"]})
check("expired credentials on ivs",
      code_of(lambda: client("ivs", **temp).list_channels()) == "ExpiredTokenException")
check("expired credentials on sts",
      code_of(lambda: client("sts", **temp).get_caller_identity()) == "ExpiredToken")
r = client("sts", **static).assume_role_with_web_identity(
    RoleArn=ROLE, RoleSessionName="web", WebIdentityToken=jwt({"sub": "svc", "aud": "sts"}))
check("web identity", r["SubjectFromWebIdentityToken"] == "svc" and r["Audience"] == "sts", r)
check("web identity expired", code_of(lambda: sts.assume_role_with_web_identity(
    RoleArn=ROLE, RoleSessionName="web", WebIdentityToken=jwt({"sub": "s", "exp": 1}))) ==
    "ExpiredTokenException")
admin("POST", "/identity/roles", {"roleArn": "arn:aws:iam::123456789012:role/only"})
check("unknown role", code_of(lambda: sts.assume_role(
    RoleArn=ROLE, RoleSessionName="xx")) == "AccessDenied")
admin("DELETE", "/identity")

sso = admin("POST", "/identity/sso-sessions", {
    "startUrl": "https://my-sso-portal.awsapps.com/start", "region": "us-east-1",
    "roles": [{"accountId": "123456789012", "roleName": "ReadOnly"}]})
portal = client("sso")
rc = portal.get_role_credentials(roleName="ReadOnly", accountId="123456789012",
                                 accessToken=sso["accessToken"])["roleCredentials"]
check("sso role credentials", rc["accessKeyId"].startswith("ASIA") and
      rc["expiration"] > time.time() * 1000, rc.get("accessKeyId"))
check("sso forbidden role", code_of(lambda: portal.get_role_credentials(
    roleName="Admin", accountId="123456789012", accessToken=sso["accessToken"])) ==
    "ForbiddenException")
check("sso unknown token", code_of(lambda: portal.get_role_credentials(
    roleName="ReadOnly", accountId="123456789012", accessToken="nope")) == "UnauthorizedException")
oidc = client("sso-oidc")
t = oidc.create_token(grantType="refresh_token", clientId=sso["clientId"],
                      clientSecret=sso["clientSecret"], refreshToken=sso["refreshToken"])
check("sso-oidc refresh", t["accessToken"] and t["refreshToken"] != sso["refreshToken"] and
      t["expiresIn"] == 3600, t.get("expiresIn"))
check("sso-oidc retired refresh token", code_of(lambda: oidc.create_token(
    grantType="refresh_token", clientId=sso["clientId"], clientSecret=sso["clientSecret"],
    refreshToken=sso["refreshToken"])) == "InvalidGrantException")

# 2. botocore's own providers with the endpoints pointed at the emulator.
os.environ.update({"AWS_ENDPOINT_URL_STS": E, "AWS_ENDPOINT_URL_IVS": E,
                   "AWS_ENDPOINT_URL_SSO": E, "AWS_ENDPOINT_URL_SSO_OIDC": E})
token_file = os.path.join(HOME, "web-token")
with open(token_file, "w") as f:
    f.write(jwt({"sub": "system:serviceaccount:ns:app", "exp": int(time.time()) + 3600}) + "\n")
sso2 = admin("POST", "/identity/sso-sessions", {
    "startUrl": "https://my-sso-portal.awsapps.com/start", "region": "us-east-1",
    "expiresInSeconds": 300,
    "roles": [{"accountId": "123456789012", "roleName": "ReadOnly"}]})
os.makedirs(os.path.join(HOME, ".aws", "sso", "cache"))
cache = os.path.join(HOME, ".aws", "sso", "cache",
                     hashlib.sha1(b"my-sso").hexdigest() + ".json")
with open(cache, "w") as f:
    json.dump(sso2, f)
with open(os.environ["AWS_SHARED_CREDENTIALS_FILE"], "w") as f:
    f.write("[src]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (KEY, SECRET))
with open(os.environ["AWS_CONFIG_FILE"], "w") as f:
    f.write("""[profile chain]
role_arn = %s
source_profile = src
role_session_name = chained
region = us-west-2

[profile web]
role_arn = %s
web_identity_token_file = %s
role_session_name = webby
region = us-west-2

[profile sso]
sso_session = my-sso
sso_account_id = 123456789012
sso_role_name = ReadOnly
region = us-west-2

[sso-session my-sso]
sso_start_url = https://my-sso-portal.awsapps.com/start
sso_region = us-east-1
""" % (ROLE, ROLE, token_file))

admin("DELETE", "/identity/calls")
s = boto3.session.Session(profile_name="chain")
check("assume-role profile on ivs", "channels" in s.client("ivs").list_channels())
who = s.client("sts").get_caller_identity()
check("assume-role profile identity",
      who["Arn"] == "arn:aws:sts::123456789012:assumed-role/app/chained", who)
s = boto3.session.Session(profile_name="web")
who = s.client("sts").get_caller_identity()
check("web identity profile",
      who["Arn"] == "arn:aws:sts::123456789012:assumed-role/app/webby", who)
s = boto3.session.Session(profile_name="sso")
who = s.client("sts").get_caller_identity()
check("sso profile identity", who["Arn"] ==
      "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_ReadOnly/emulator-user", who)
with open(cache) as f:
    written = json.load(f)
calls = admin("GET", "/identity/calls")
check("sso token refreshed through sso-oidc", calls.get("CreateToken") == 1 and
      written["accessToken"] != sso2["accessToken"] and
      written["refreshToken"] != sso2["refreshToken"], calls)
check("providers' calls", calls.get("AssumeRole") == 1 and
      calls.get("AssumeRoleWithWebIdentity") == 1 and calls.get("GetRoleCredentials") == 1, calls)
sys.exit(1 if failed else 0)
