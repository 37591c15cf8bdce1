#!/usr/bin/env python3
"""botocore's resolution of profile, region and IVS endpoint, as an oracle for config.c.

Reads a JSON array on stdin; each scenario is {"config": text or null, "credentials": text or
null, "env": {NAME: value}}. For each, prints (in a JSON array) {"profile", "region",
"endpoint"} as a botocore session and its ivs client resolve them, or {"error": class name}
when botocore refuses. The files are written to a private temporary directory and every
AWS_* variable of the caller is removed first. Exits 77 when botocore cannot be imported.
"""
import json
import os
import sys
import tempfile

try:
    import botocore.session
    from botocore.exceptions import BotoCoreError
except ImportError:
    sys.exit(77)


def run(scenario, tmp):
    for k in list(os.environ):
        if k.startswith("AWS_"):
            del os.environ[k]
    paths = {}
    for name in ("config", "credentials"):
        path = os.path.join(tmp, name)
        if os.path.exists(path):
            os.unlink(path)
        if scenario.get(name) is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(scenario[name])
        paths[name] = path
    os.environ["AWS_CONFIG_FILE"] = paths["config"]
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = paths["credentials"]
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    os.environ.update(scenario.get("env", {}))
    try:
        session = botocore.session.get_session()
        profile = session.get_config_variable("profile") or "default"
        session.get_scoped_config()  # raises ProfileNotFound like client creation would
        region = session.get_config_variable("region")
        client = session.create_client("ivs", aws_access_key_id="AKID",
                                       aws_secret_access_key="secret")
        return {"profile": profile, "region": region, "endpoint": client.meta.endpoint_url}
    except BotoCoreError as e:
        return {"error": type(e).__name__}


def main():
    scenarios = json.load(sys.stdin)
    with tempfile.TemporaryDirectory(prefix="ivs-config-oracle-") as tmp:
        json.dump([run(s, tmp) for s in scenarios], sys.stdout)


main()
