"""The auth proxy of the test district's `rclone serve s3` (run by rclone once per access key).

rclone hands it ``{"user": <access key id>}`` on stdin; it answers with that key's secret and the
backend the key may see, from ``DISTRICT_ACCOUNTS`` (JSON set by tests/partner.py). An unknown key
gets an empty secret, which rclone refuses. This is how a district's MinIO or Ceph gives each
school's key a policy on its own prefix; `serve s3 --auth-key` alone lets every key see everything."""

import json
import os
import sys

accounts = json.loads(os.environ["DISTRICT_ACCOUNTS"])
account = accounts.get(json.load(sys.stdin).get("user", ""))
print(json.dumps({**account["backend"], "_secret_access_key": account["secret"]} if account
                 else {"_secret_access_key": ""}))
