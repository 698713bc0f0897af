"""Timeouts and HTTP helpers for the ATOL tests (a module with a unique name); the documents
they print are in tests/tools/kkt_testing.py."""

import http.client
import json
import time
import uuid as uuidlib

#: short timeouts keep the fault tests fast; the defaults are for real registers
FAST = {"http": 2.0, "task": 5.0, "poll": 0.01}


def http_call(web, method, path, body=None, raw=None):
    """(status, parsed JSON or None) of one raw HTTP exchange with the web server."""
    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=5)
    try:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        headers = {"Content-Type": "application/json"} if data is not None else {}
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        text = resp.read()
        return resp.status, (json.loads(text) if text else None)
    finally:
        conn.close()


def post_request(web, uuid, *tasks):
    """(status, reply) of POSTing the tasks as request ``uuid``."""
    return http_call(web, "POST", "/api/v2/requests", {"uuid": uuid, "request": list(tasks)})


def run_tasks(web, *tasks):
    """The results of the tasks posted as one new request, once all are final."""
    uuid = new_uuid()
    post_request(web, uuid, *tasks)
    return wait_results(web, uuid)


def new_uuid():
    return str(uuidlib.uuid4())


def wait_results(web, uuid, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = http_call(web, "GET", f"/api/v2/requests/{uuid}")
        if status == 200 and all(
            r["status"] in ("ready", "error", "interrupted", "canceled") for r in body["results"]
        ):
            return body["results"]
        time.sleep(0.02)
    raise AssertionError(f"request {uuid} did not finish")
