#!/usr/bin/env python3
# vastdeck's OnStart runner: runs the job embedded in the instance's VASTDECK_JOB_* variables against
# the local ComfyUI once it is up, copies the outputs to the job's outputsDir and writes the done marker.
# Started in the background by the instance's onstart line; python3 stdlib only (see ONSTART.md).
import base64
import gzip
import hashlib
import http.client
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timezone

# Must equal the "onstart" kinds of log-contract.json (test/unit/onstart-runner.test.ts checks).
CONTRACT = {
    "onstart-begin": "[vastdeck] onstart start version=%s job=%s",
    "onstart-skip": "[vastdeck] onstart skip job=%s reason=%s",
    "onstart-waiting": "[vastdeck] onstart waiting-for-comfyui url=%s timeout=%d",
    "onstart-comfyui-ready": "[vastdeck] onstart comfyui-ready seconds=%d",
    "onstart-image": "[vastdeck] onstart image source=%s bytes=%d",
    "onstart-image-retry": "[vastdeck] onstart image retry attempt=%d/%d delay=%d reason=%s",
    "onstart-uploaded": "[vastdeck] onstart uploaded name=%s",
    "onstart-submitted": "[vastdeck] onstart submitted prompt=%s",
    "onstart-output": "[vastdeck] onstart output file=%s bytes=%d",
    "onstart-done": "[vastdeck] onstart done files=%d seconds=%d",
    "onstart-failed": "[vastdeck] onstart failed reason=%s",
}

ENV = os.environ
COMFY = ENV.get("VASTDECK_COMFY_URL", "http://127.0.0.1:18188").rstrip("/")
LOG_FILE = ENV.get("VASTDECK_ONSTART_LOG", "/var/log/portal/vastdeck-onstart.log")
DONE_FILE = ENV.get("VASTDECK_DONE_FILE", "/workspace/vastdeck/done.json")
COMFY_TIMEOUT = float(ENV.get("VASTDECK_COMFY_TIMEOUT", "3600"))
JOB_TIMEOUT = float(ENV.get("VASTDECK_JOB_TIMEOUT", "3600"))
POLL = float(ENV.get("VASTDECK_POLL_SECONDS", "2"))
IMAGE_ATTEMPTS = int(ENV.get("VASTDECK_IMAGE_ATTEMPTS", "5"))
RETRY_BASE = float(ENV.get("VASTDECK_RETRY_BASE_SECONDS", "2"))
MAX_IMAGE_BYTES = 64 * 1024 * 1024


class JobFailed(Exception):
    """A failure with its one-sentence reason for done.json."""


def say(kind, *values):
    line = CONTRACT[kind] % tuple(re.sub(r"[\r\n]+", " ", v) if isinstance(v, str) else int(v) for v in values)
    os.makedirs(os.path.dirname(LOG_FILE), exist_ok=True)
    with open(LOG_FILE, "a", encoding="utf-8") as log:
        log.write(line + "\n")
    print(line, flush=True)


def one_line(text):
    return re.sub(r"\s+", " ", str(text)).strip().rstrip(".")


def read_job():
    chunks, index = [], 0
    while ("VASTDECK_JOB_%d" % index) in ENV:
        chunks.append(ENV["VASTDECK_JOB_%d" % index])
        index += 1
    try:
        if not chunks:
            raise ValueError("no VASTDECK_JOB_0 variable")
        job = json.loads(gzip.decompress(base64.b64decode("".join(chunks), validate=True)))
        for key in ("id", "workflow", "imageNode", "imageInput", "image", "outputsDir"):
            if key not in job:
                raise ValueError("no %s field" % key)
        if job.get("version") != 1:
            raise ValueError("version %r, not 1" % job.get("version"))
        return job
    except (ValueError, OSError, EOFError) as error:
        raise JobFailed("The job in the VASTDECK_JOB_* variables cannot be read (%s): create the instance again with vastdeck run --onstart." % one_line(error))


def request(path, data=None, headers=None, timeout=30):
    req = urllib.request.Request(COMFY + path, data=data, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as response:
        return response.status, response.read()


def comfy_json(path, body=None):
    """(status, parsed JSON or None); HTTP errors are answers here, and no connection is status 0."""
    data = None if body is None else json.dumps(body).encode()
    try:
        status, raw = request(path, data, {"Content-Type": "application/json"} if data else None)
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except (OSError, http.client.HTTPException):
        return 0, None
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, None


def wait_for_comfyui():
    say("onstart-waiting", COMFY, COMFY_TIMEOUT)
    start = time.monotonic()
    while time.monotonic() - start < COMFY_TIMEOUT:
        try:
            if request("/system_stats", timeout=10)[0] == 200:
                say("onstart-comfyui-ready", time.monotonic() - start)
                return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(min(POLL, 5))
    raise JobFailed("ComfyUI did not answer on %s within %g s: read /var/log/portal/comfyui.log and /var/log/portal/provisioning.log on the instance." % (COMFY, COMFY_TIMEOUT))


def image_kind(data):
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return ".png"
    if data[:3] == b"\xff\xd8\xff":
        return ".jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return None


def fetch_image(image):
    if "path" in image:
        path = image["path"]
        if not os.path.isfile(path):
            raise JobFailed("The input image %s is not on the instance: ship it with the provisioning assets, or use --image-url." % path)
        with open(path, "rb") as handle:
            return path, handle.read()
    url = image["url"]
    parts = urllib.parse.urlsplit(url)
    shown = urllib.parse.urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
    if parts.scheme not in ("http", "https"):
        raise JobFailed("The input image URL %s is not an http(s) URL: pass an http or https URL." % shown)
    attempt = 0
    while True:
        attempt += 1
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers={"User-Agent": "vastdeck-onstart/1"}), timeout=60) as response:
                data = response.read(MAX_IMAGE_BYTES + 1)
            if len(data) > MAX_IMAGE_BYTES:
                raise JobFailed("The input image at %s is over %d MB: use a smaller image." % (shown, MAX_IMAGE_BYTES >> 20))
            return shown, data
        except urllib.error.HTTPError as error:
            # A 4xx other than 408/429 will not change on a retry.
            reason, final = "HTTP %d" % error.code, 400 <= error.code < 500 and error.code not in (408, 429)
        except (OSError, http.client.HTTPException) as error:
            cause = getattr(error, "reason", error)
            reason, final = one_line(getattr(cause, "strerror", None) or cause), False
        if final or attempt >= IMAGE_ATTEMPTS:
            raise JobFailed("The input image could not be fetched from %s after %d attempt%s (%s): check that the URL is reachable from the instance and points at an image." % (shown, attempt, "" if attempt == 1 else "s", reason))
        delay = RETRY_BASE * 2 ** (attempt - 1)
        say("onstart-image-retry", attempt, IMAGE_ATTEMPTS, delay, reason)
        time.sleep(delay)


def upload(job, source, data):
    extension = image_kind(data)
    if extension is None:
        raise JobFailed("The input image from %s is not a PNG, JPEG or WebP file: point the job at an image." % source)
    say("onstart-image", source, len(data))
    boundary = uuid.uuid4().hex
    name = "vastdeck-onstart-%s%s" % (job["id"], extension)
    body = b"".join([
        b"--%s\r\nContent-Disposition: form-data; name=\"image\"; filename=\"%s\"\r\nContent-Type: application/octet-stream\r\n\r\n" % (boundary.encode(), name.encode()),
        data,
        b"\r\n--%s\r\nContent-Disposition: form-data; name=\"overwrite\"\r\n\r\ntrue\r\n--%s--\r\n" % (boundary.encode(), boundary.encode()),
    ])
    try:
        status, raw = request("/upload/image", body, {"Content-Type": "multipart/form-data; boundary=" + boundary})
        answer = json.loads(raw)
    except urllib.error.HTTPError as error:
        raise JobFailed("ComfyUI refused the input image upload (HTTP %d): read /var/log/portal/comfyui.log on the instance." % error.code)
    value = "%s/%s" % (answer["subfolder"], answer["name"]) if answer.get("subfolder") else answer["name"]
    say("onstart-uploaded", value)
    return value


def refusal(answer):
    """One clause from POST /prompt's 400: the first node error, else the top-level message."""
    answer = answer if isinstance(answer, dict) else {}
    for node_id, entry in (answer.get("node_errors") or {}).items():
        for error in entry.get("errors") or []:
            return "node %s %s: %s" % (node_id, entry.get("class_type", "?"), one_line(error.get("details") or error.get("message")))
    error = answer.get("error") or {}
    return one_line("%s %s" % (error.get("message", "no reason given"), error.get("details", "")))


def run_prompt(job, image_value):
    workflow = job["workflow"]
    workflow[job["imageNode"]]["inputs"][job["imageInput"]] = image_value
    prompt_id = str(uuid.uuid4())
    status, answer = comfy_json("/prompt", {"prompt": workflow, "client_id": "vastdeck-onstart", "prompt_id": prompt_id})
    if status == 0:
        raise JobFailed("ComfyUI stopped answering on %s when the job was submitted: read /var/log/portal/comfyui.log on the instance." % COMFY)
    if status != 200:
        raise JobFailed("ComfyUI refused the workflow (%s): fix the workflow or its settings and run again." % refusal(answer))
    say("onstart-submitted", prompt_id)
    start = time.monotonic()
    while time.monotonic() - start < JOB_TIMEOUT:
        status, history = comfy_json("/history/" + prompt_id)
        entry = history.get(prompt_id) if status == 200 and isinstance(history, dict) else None
        if entry:
            return history_outputs(entry)
        time.sleep(POLL)
    raise JobFailed("The job did not finish within %g s on the instance: read /var/log/portal/comfyui.log there." % JOB_TIMEOUT)


def history_outputs(entry):
    state = entry.get("status") or {}
    if state.get("status_str") != "success":
        for event, data in reversed(state.get("messages") or []):
            if event == "execution_error":
                raise JobFailed("ComfyUI failed at node %s (%s): %s." % (data.get("node_id"), data.get("node_type"), one_line(data.get("exception_message"))))
        raise JobFailed("ComfyUI interrupted the job on the instance: run it again.")
    files = []
    for output in (entry.get("outputs") or {}).values():
        for key, items in output.items():
            if key != "animated" and isinstance(items, list):
                files.extend(item for item in items if isinstance(item, dict) and "filename" in item)
    return files


def collect(job, files):
    outputs_dir = job["outputsDir"]
    os.makedirs(outputs_dir, exist_ok=True)
    collected = []
    for item in files:
        query = urllib.parse.urlencode({"filename": item["filename"], "subfolder": item.get("subfolder", ""), "type": item.get("type", "output")})
        try:
            data = request("/view?" + query, timeout=300)[1]
        except urllib.error.HTTPError as error:
            raise JobFailed("ComfyUI would not hand over the output %s (HTTP %d): read /var/log/portal/comfyui.log on the instance." % (item["filename"], error.code))
        name = os.path.basename(item["filename"]) or "output"
        stem, extension = os.path.splitext(name)
        suffix = 1
        while any(entry["file"] == name for entry in collected):
            name, suffix = "%s-%d%s" % (stem, suffix, extension), suffix + 1
        with open(os.path.join(outputs_dir, name), "wb") as handle:
            handle.write(data)
        collected.append({"file": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
        say("onstart-output", name, len(data))
    if not collected:
        raise JobFailed("The workflow produced no output files: check that it has a SaveImage (or another save) node.")
    return collected


def write_marker(marker):
    os.makedirs(os.path.dirname(DONE_FILE), exist_ok=True)
    temporary = "%s.%d.tmp" % (DONE_FILE, os.getpid())
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(marker, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, DONE_FILE)


def already_done(job_id):
    try:
        with open(DONE_FILE, encoding="utf-8") as handle:
            return json.load(handle).get("id") == job_id
    except (OSError, ValueError, AttributeError):
        return False


def main():
    start = time.monotonic()
    job_id = "unknown"
    try:
        job = read_job()
        job_id = str(job["id"])
        if already_done(job_id):
            say("onstart-skip", job_id, "done.json already holds this job (the instance restarted)")
            return 0
        say("onstart-begin", job["version"], job_id)
        wait_for_comfyui()
        source, data = fetch_image(job["image"])
        outputs = collect(job, run_prompt(job, upload(job, source, data)))
        marker = {"id": job_id, "status": "success", "outputs": outputs}
        say("onstart-done", len(outputs), time.monotonic() - start)
    except JobFailed as failure:
        marker = {"id": job_id, "status": "error", "outputs": [], "error": str(failure)}
        say("onstart-failed", str(failure))
    except Exception as error:  # noqa: BLE001 - any surprise still ends in a marker, never a hang
        reason = "The OnStart runner stopped unexpectedly (%s: %s): read /var/log/portal/vastdeck-onstart.log on the instance." % (type(error).__name__, one_line(error))
        marker = {"id": job_id, "status": "error", "outputs": [], "error": reason}
        say("onstart-failed", reason)
    marker["finishedAt"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    write_marker(marker)
    return 0 if marker["status"] == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
