#!/usr/bin/env python3
# vastdeck's autostop watchdog: stops or destroys its own instance, with the instance's scoped key
# (CONTAINER_API_KEY, which can act on this instance only), once vastdeck has sent no heartbeat and
# ComfyUI has run no job for VASTDECK_AUTOSTOP_IDLE_MIN minutes, or after VASTDECK_AUTOSTOP_MAX_HOURS
# of running. It destroys only when every output on the instance was fetched by vastdeck; otherwise it
# stops (the disk, and the outputs on it, stay). Started in the background by the instance's onstart
# at every container start; python3 stdlib only. docs/autostop.md has the contract.
import hashlib
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone

# Must equal the "autostop" kinds of log-contract.json (test/unit/autostop-script.test.ts checks).
CONTRACT = {
    "autostop-start": "[vastdeck] autostop start idle-minutes=%d max-hours=%s action=%s",
    "autostop-act": "[vastdeck] autostop %s at=%s reason=%s",
    "autostop-failed": "[vastdeck] autostop failed action=%s reason=%s",
    "autostop-off": "[vastdeck] autostop off reason=%s",
}

ENV = os.environ
FOLDER = ENV.get("VASTDECK_FOLDER", "/workspace/vastdeck")
HEARTBEAT_FILE = ENV.get("VASTDECK_HEARTBEAT_FILE", FOLDER + "/heartbeat")
FETCHED_FILE = ENV.get("VASTDECK_FETCHED_FILE", FOLDER + "/fetched")
STATE_FILE = ENV.get("VASTDECK_AUTOSTOP_STATE", FOLDER + "/autostop-state.json")
LOG_FILE = ENV.get("VASTDECK_AUTOSTOP_LOG", "/var/log/portal/vastdeck-autostop.log")
OUTPUT_DIRS = ENV.get("VASTDECK_OUTPUT_DIRS", "/workspace/ComfyUI/output:" + FOLDER + "/outputs").split(":")
PROVISIONING_MARKER = ENV.get("VASTDECK_PROVISIONING_MARKER", "/.provisioning")
COMFY = ENV.get("VASTDECK_COMFY_URL", "http://127.0.0.1:18188").rstrip("/")
CHECK_SECONDS = float(ENV.get("VASTDECK_AUTOSTOP_CHECK_SECONDS", "30"))
HTTP_TIMEOUT = 20
HEX64 = re.compile(r"^[0-9a-f]{64}$")


class Off(Exception):
    """The watchdog cannot run: its one-sentence reason."""


def say(kind, *values):
    line = CONTRACT[kind] % tuple(re.sub(r"[\r\n]+", " ", v) if isinstance(v, str) else int(v) for v in values)
    os.makedirs(os.path.dirname(LOG_FILE), exist_ok=True)
    with open(LOG_FILE, "a", encoding="utf-8") as log:
        log.write(line + "\n")


def settings():
    key, instance, api = ENV.get("CONTAINER_API_KEY", ""), ENV.get("CONTAINER_ID", ""), ENV.get("VASTDECK_AUTOSTOP_API", "")
    if not key:
        raise Off("CONTAINER_API_KEY is not set, so the instance cannot stop itself")
    if not re.match(r"^\d+$", instance):
        raise Off("CONTAINER_ID is %r, not an instance id" % instance)
    if not re.match(r"^https?://", api):
        raise Off("VASTDECK_AUTOSTOP_API is %r, not an http(s) address" % api)
    try:
        idle = int(ENV.get("VASTDECK_AUTOSTOP_IDLE_MIN", ""))
        max_hours = float(ENV.get("VASTDECK_AUTOSTOP_MAX_HOURS", "0") or "0")
    except ValueError:
        raise Off("VASTDECK_AUTOSTOP_IDLE_MIN or _MAX_HOURS is not a number")
    action = ENV.get("VASTDECK_AUTOSTOP_ACTION", "destroy")
    if idle < 1 or max_hours < 0 or action not in ("stop", "destroy"):
        raise Off("idle %d min, max %s h, action %r: need idle >= 1, max >= 0, action stop or destroy" % (idle, max_hours, action))
    return {"key": key, "id": instance, "api": api.rstrip("/"), "idle": idle, "maxHours": max_hours, "action": action}


def read_number(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return float(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def comfy_busy():
    """True while ComfyUI has a job running or waiting (GET /queue); False when it answers empty or not at all."""
    try:
        with urllib.request.urlopen(COMFY + "/queue", timeout=HTTP_TIMEOUT) as answer:
            queue = json.load(answer)
        return bool(queue.get("queue_running")) or bool(queue.get("queue_pending"))
    except (OSError, ValueError, AttributeError):
        return False


def fetched_hashes():
    try:
        with open(FETCHED_FILE, encoding="utf-8", errors="replace") as handle:
            return {line.split()[0] for line in handle if line.split() and HEX64.match(line.split()[0])}
    except OSError:
        return set()


def unfetched_outputs(cache):
    """Output files whose content vastdeck never wrote into the fetched list (hashes cached by path, size and mtime)."""
    done = fetched_hashes()
    missing = []
    for root in OUTPUT_DIRS:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [name for name in dirs if not name.startswith(".")]
            for name in files:
                path = os.path.join(folder, name)
                if name.startswith(".") or not os.path.isfile(path):
                    continue
                stat = os.stat(path)
                key = (path, stat.st_size, stat.st_mtime)
                if key not in cache:
                    digest = hashlib.sha256()
                    with open(path, "rb") as handle:
                        for block in iter(lambda: handle.read(1 << 20), b""):
                            digest.update(block)
                    cache[key] = digest.hexdigest()
                if cache[key] not in done:
                    missing.append(path)
    return missing


def call_api(config, action):
    """Stops (PUT state) or destroys (DELETE) this instance; None on success, else the reason."""
    url = "%s/api/v0/instances/%s/" % (config["api"], config["id"])
    body = json.dumps({"state": "stopped"}).encode() if action == "stop" else None
    request = urllib.request.Request(url, data=body, method="PUT" if action == "stop" else "DELETE")
    request.add_header("Authorization", "Bearer " + config["key"])
    request.add_header("Accept", "application/json")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as answer:
            text = answer.read().decode("utf-8", "replace")
        try:
            said = json.loads(text) if text.strip() else {}
        except ValueError:
            said = {}
        if isinstance(said, dict) and said.get("success") is False:
            return "the API said %s" % one_line(said.get("msg") or said.get("error") or "no")
        return None
    except urllib.error.HTTPError as error:
        return "HTTP %d from %s" % (error.code, config["api"])
    except (OSError, ValueError) as error:
        return "%s did not answer (%s)" % (config["api"], one_line(error))


def one_line(text):
    return re.sub(r"\s+", " ", str(text)).strip().rstrip(".")


def check(config, state, now, cache):
    """One look: updates state; returns the action taken ('stop'/'destroy') or None."""
    heartbeat = read_number(HEARTBEAT_FILE)
    if heartbeat is not None and heartbeat > state["lastActiveAt"]:
        state["lastActiveAt"] = min(heartbeat, now)
    if comfy_busy() or os.path.exists(PROVISIONING_MARKER):
        state["lastActiveAt"] = now
    idle = now - state["lastActiveAt"]
    if config["maxHours"] > 0 and now - state["startedAt"] >= config["maxHours"] * 3600:
        reason = "the instance ran for its maximum of %s h (autostop.maxHours)" % format_number(config["maxHours"])
    elif idle >= config["idle"] * 60:
        reason = "no heartbeat from vastdeck and no ComfyUI job for %d min" % int(idle // 60)
    else:
        return None
    action = config["action"]
    if action == "destroy":
        missing = unfetched_outputs(cache)
        if missing:
            action = "stop"
            reason += "; %d output%s on the instance %s never fetched by vastdeck, so it is stopped instead of destroyed (its disk keeps billing storage until you destroy it)" % (
                len(missing), "" if len(missing) == 1 else "s", "was" if len(missing) == 1 else "were")
    else:
        reason += "; autostop.action is stop, so the disk keeps billing storage until you destroy it"
    if state.get("failed") != action:
        say("autostop-act", action, datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), reason)
    problem = call_api(config, action)
    if problem:
        if state.get("failed") != action:
            say("autostop-failed", action, problem + ", trying again at the next check")
        state["failed"] = action
        return None
    state["done"] = action
    return action


def format_number(value):
    return ("%g" % value)


def load_state(now):
    try:
        with open(STATE_FILE, encoding="utf-8") as handle:
            state = json.load(handle)
        if isinstance(state.get("startedAt"), (int, float)) and isinstance(state.get("lastActiveAt"), (int, float)):
            return state
    except (OSError, ValueError, AttributeError):
        pass
    return {"startedAt": now, "lastActiveAt": now}


def save_state(state):
    try:
        os.makedirs(os.path.dirname(STATE_FILE), exist_ok=True)
        with open(STATE_FILE + ".tmp", "w", encoding="utf-8") as handle:
            json.dump(state, handle)
        os.replace(STATE_FILE + ".tmp", STATE_FILE)
    except OSError:
        pass


def main(argv):
    # --once: one check against the saved state, at VASTDECK_AUTOSTOP_NOW if set (the sandbox tests).
    once = "--once" in argv
    try:
        config = settings()
    except Off as off:
        say("autostop-off", str(off))
        return 0
    now = float(ENV.get("VASTDECK_AUTOSTOP_NOW", "0")) or time.time()
    state = load_state(now) if once else {"startedAt": now, "lastActiveAt": now}
    if not once or "announced" not in state:
        say("autostop-start", config["idle"], format_number(config["maxHours"]), config["action"])
        state["announced"] = True
    cache = {}
    while True:
        acted = check(config, state, now, cache)
        save_state(state)
        if acted or once:
            return 0
        time.sleep(CHECK_SECONDS)
        now = time.time()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
