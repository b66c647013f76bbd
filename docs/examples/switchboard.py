#!/usr/bin/env python3
"""Switchboard HTTP API from Python, standard library only.

    SWITCHBOARD_URL=http://localhost:3000 SWITCHBOARD_API_KEY=... python3 switchboard.py publish '{"event":"hi","all":true}'

As a module:

    from switchboard import Switchboard
    sb = Switchboard("http://localhost:3000", "my-api-key")
    sb.publish("order:shipped", {"id": 7}, users=["42"])
    sb.send_to_user("42", "notice", "hello", namespace="/push")
    sb.bind_user(client_id, "42", namespace="/push")
"""
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request


class SwitchboardError(Exception):
    def __init__(self, status, code, message):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class Switchboard:
    def __init__(self, base_url, api_key, timeout=10):
        self.base = base_url.rstrip("/") + "/api/v1"
        self.api_key = api_key
        self.timeout = timeout

    def _call(self, method, path, body=None, namespace=None):
        url = self.base + path
        if namespace:
            url += "?" + urllib.parse.urlencode({"namespace": namespace})
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Authorization", "Bearer " + self.api_key)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                text = res.read().decode()
                return json.loads(text) if text else None
        except urllib.error.HTTPError as err:
            try:
                e = json.loads(err.read().decode())["error"]
            except Exception:
                e = {"code": "http_error", "message": str(err)}
            raise SwitchboardError(err.code, e["code"], e["message"]) from None

    def publish(self, event, data=None, rooms=None, users=None, clients=None, groups=None,
                channels=None, all=False, namespace="/"):
        body = {"event": event, "data": data, "namespace": namespace}
        for key, value in (("rooms", rooms), ("users", users), ("clients", clients),
                           ("groups", groups), ("channels", channels)):
            if value:
                body[key] = list(value)
        if all:
            body["all"] = True
        return self._call("POST", "/publish", body)["targets"]

    def send_to_user(self, user_id, event, data=None, namespace="/"):
        self._call("POST", "/users/%s/send" % urllib.parse.quote(user_id, safe=""),
                   {"event": event, "data": data}, namespace)

    def send_to_client(self, client_id, event, data=None, namespace="/"):
        self._call("POST", "/clients/%s/send" % urllib.parse.quote(client_id, safe=""),
                   {"event": event, "data": data}, namespace)

    def bind_user(self, client_id, user_id, namespace="/"):
        self._call("PUT", "/clients/%s/user" % urllib.parse.quote(client_id, safe=""),
                   {"userId": user_id}, namespace)

    def is_user_online(self, user_id, namespace="/"):
        return self._call("GET", "/users/%s" % urllib.parse.quote(user_id, safe=""),
                          namespace=namespace)["online"]


def main(argv):
    """A tiny CLI: publish <json body> | send-to-user <uid> <event> <json data> <ns> | bind <client> <uid> <ns>."""
    sb = Switchboard(os.environ.get("SWITCHBOARD_URL", "http://localhost:3000"), os.environ["SWITCHBOARD_API_KEY"])
    cmd, args = argv[0], argv[1:]
    try:
        if cmd == "publish":
            body = json.loads(args[0])
            event = body.pop("event")
            data = body.pop("data", None)
            print(json.dumps({"targets": sb.publish(event, data, **body)}))
        elif cmd == "send-to-user":
            sb.send_to_user(args[0], args[1], json.loads(args[2]), args[3] if len(args) > 3 else "/")
            print(json.dumps({"ok": True}))
        elif cmd == "bind":
            sb.bind_user(args[0], args[1], args[2] if len(args) > 2 else "/")
            print(json.dumps({"ok": True}))
        elif cmd == "online":
            print(json.dumps({"online": sb.is_user_online(args[0], args[1] if len(args) > 1 else "/")}))
        else:
            raise SystemExit("unknown command " + cmd)
    except SwitchboardError as err:
        print(json.dumps({"error": {"status": err.status, "code": err.code, "message": err.message}}))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
