#!/usr/bin/env python3
"""upper — a troupe actor in Python, run by the stdio shim:

    [actor upper]
    exec = troupe-stdio -- python3 /usr/local/share/troupe/examples/upper.py

Every message arrives on stdin as one JSON line
{"id", "from", "kind", "redelivered", "body"}.  An ask is answered with
{"reply_to": id, "body": ...}: the body upper-cased (strings anywhere in
it), with how many messages this instance has seen and its pid.  A send
whose body is {"forward": ACTOR, ...} is passed on upper-cased to ACTOR;
any other send is just marked done.  Nothing here is troupe-specific but
the line shapes: any language that reads and writes lines can do the same.
"""
import json
import os
import sys


def upper(v):
    if isinstance(v, str):
        return v.upper()
    if isinstance(v, list):
        return [upper(x) for x in v]
    if isinstance(v, dict):
        return {k: upper(x) for k, x in v.items()}
    return v


def say(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def main():
    count = 0
    for line in sys.stdin:
        msg = json.loads(line)
        count += 1
        body = msg["body"]
        if msg["kind"] == "ask":
            say({"reply_to": msg["id"],
                 "body": {"upper": upper(body), "count": count,
                          "pid": os.getpid()}})
            continue
        if isinstance(body, dict) and isinstance(body.get("forward"), str):
            say({"to": body["forward"], "body": upper(body)})
        say({"done": msg["id"]})


if __name__ == "__main__":
    main()
