#!/usr/bin/env python3
"""Independent oracle for model_serialize: botocore's own rest-json serializer.

Usage: botocore_serialize.py MODEL_JSON < cases.json > requests.json
  cases.json: [{"operation": "CreateChannel", "input": {...}}, ...]
  requests.json: [{"method", "path", "query": {name: [values]}, "body": text or null}, ...]
The model is loaded from the given file (the project's shared copy), not from botocore's
bundled data, so operations newer than the installed botocore are covered too.
Exit status 3 when botocore is not importable (the caller skips).
"""
import json
import sys

try:
    from botocore.model import ServiceModel
    from botocore.serialize import create_serializer
except ImportError:
    sys.exit(3)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        model = ServiceModel(json.load(f), service_name="ivs")
    cases = json.load(sys.stdin)
    serializer = create_serializer("rest-json", include_validation=False)
    out = []
    for case in cases:
        op = model.operation_model(case["operation"])
        req = serializer.serialize_to_request(case["input"], op)
        query = {}
        for name, value in req["query_string"].items():
            values = value if isinstance(value, list) else [value]
            query[name] = [str(v) for v in values]
        body = req["body"]
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        out.append({
            "method": req["method"],
            "path": req["url_path"],
            "query": query,
            "body": body if body else None,
        })
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
