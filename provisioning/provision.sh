#!/usr/bin/env bash
# vastdeck's PROVISIONING_SCRIPT for Vast's vastai/comfyui image: turns the stock image into the
# user's setup from a JSON manifest (provisioning/manifest.schema.json) instead of edited bash.
# Every line it prints follows provisioning/log-contract.json (see CONTRACT below); tools' own
# output (apt-get, pip, git, curl) passes through untouched. README.md in this folder explains it.
#
# Where the manifest comes from, first match wins:
#   VASTDECK_MANIFEST_URL  http(s) URL, fetched with retries
#   VASTDECK_MANIFEST      local path
#   $WORKSPACE/vastdeck/manifest.json, else manifest.json next to this script
# Knobs (defaults in brackets): WORKSPACE [/workspace], COMFYUI_DIR [$WORKSPACE/ComfyUI],
#   VASTDECK_VENV [/venv/main], VASTDECK_DOWNLOAD_SLOTS [3], VASTDECK_DOWNLOAD_ATTEMPTS [5],
#   VASTDECK_RETRY_BASE_SECONDS [2, doubling], VASTDECK_PROGRESS_SECONDS [5],
#   VASTDECK_SAGEATTENTION_VERSION [1.0.6], VASTDECK_TRITON_VERSION [3.2.0], VASTDECK_ARCH [uname -m].
# Tokens: HF_TOKEN goes to huggingface.co, CIVITAI_TOKEN to civitai.com, as Authorization headers
# written to private wgetrc files (never on a command line, never printed).
set -Eeuo pipefail

readonly SCRIPT_VERSION=1
readonly SAGEATTENTION_VERSION="${VASTDECK_SAGEATTENTION_VERSION:-1.0.6}"
readonly TRITON_VERSION="${VASTDECK_TRITON_VERSION:-3.2.0}"
# SageAttention pays off (and its kernels run) from Ampere, compute capability 8.0, up.
readonly SAGE_MIN_CC=80
# ComfyUI's model folders; the same list as manifest.schema.json and manifest.ts.
readonly MODEL_FOLDERS=(checkpoints loras vae unet diffusion_models clip text_encoders clip_vision controlnet upscale_models embeddings)
readonly DEFAULT_COMFYUI_ARGS="--disable-auto-launch --port 18188 --enable-cors-header"

HF_TOKEN="${HF_TOKEN:-}"
CIVITAI_TOKEN="${CIVITAI_TOKEN:-}"
WORKSPACE="${WORKSPACE:-/workspace}"
COMFYUI_DIR="${COMFYUI_DIR:-${WORKSPACE}/ComfyUI}"
MODELS_DIR="${COMFYUI_DIR}/models"
WORKFLOWS_DIR="${COMFYUI_DIR}/user/default/workflows"
VENV_DIR="${VASTDECK_VENV:-/venv/main}"
DOWNLOAD_SLOTS="${VASTDECK_DOWNLOAD_SLOTS:-3}"
DOWNLOAD_ATTEMPTS="${VASTDECK_DOWNLOAD_ATTEMPTS:-5}"
RETRY_BASE_SECONDS="${VASTDECK_RETRY_BASE_SECONDS:-2}"
PROGRESS_SECONDS="${VASTDECK_PROGRESS_SECONDS:-5}"

# THE LOG CONTRACT: these templates must equal the "template" of each kind in
# provisioning/log-contract.json (test/unit/provision-script.test.ts compares them).
declare -rA CONTRACT=(
  [begin]='[vastdeck] provisioning start version=%s manifest=%s'
  [stage-start]='[vastdeck] stage=%s start'
  [stage-done]='[vastdeck] stage=%s done seconds=%d'
  [gpu]='[vastdeck] gpu cc=%s arch=%s'
  [sage-install]='[vastdeck] sage install triton=%s sageattention=%s'
  [sage-fallback]='[vastdeck] sage fallback reason=%s'
  [node]='[vastdeck] node %s name=%s ref=%s'
  [download-batch]='[vastdeck] download batch files=%d dir=%s slots=%d'
  [download-start]='[vastdeck] download start file=%s folder=%s host=%s'
  [download-progress]='[vastdeck] download file=%s bytes=%d total=%d pct=%d rate=%d'
  [download-done]='[vastdeck] download done file=%s bytes=%d seconds=%d'
  [download-retry]='[vastdeck] download retry file=%s attempt=%d/%d delay=%d reason=%s'
  [download-failed]='[vastdeck] download failed file=%s attempts=%d reason=%s'
  [workflow]='[vastdeck] workflow file=%s'
  [comfyui-args]='[vastdeck] comfyui args=%s'
  [info]='[vastdeck] info %s'
  [complete]='[vastdeck] provisioning complete seconds=%d'
  [failed]='[vastdeck] provisioning failed step=%s reason=%s'
  [trap]='[ERROR] Provisioning Script failed at line %d with exit code %d'
)

CURRENT_STEP=setup
FAIL_REPORTED=""
# The subshell level whose ERR trap reports; deeper ones (command substitutions) exit quietly.
ERR_LEVEL=0
# Set inside a download job: its failures are reported as that file's, then the models step fails.
JOB_FILE=""
JOB_INDEX=""
JOB_ATTEMPT=0
JOB_PIDS=()
WORK_DIR=""
SAGE_OK=0
START_SECONDS=$SECONDS
FETCH_REASON=""
WGET_REASON=""
WGET_PERMANENT=0

MANIFEST_URL=""
MANIFEST_FILE=""
MANIFEST_SHOWN=""
EXTRA_ARGS=""
AUTO_UPDATE_NODES=1
APT_PACKAGES=()
PIP_PACKAGES=()
NODE_URLS=()
NODE_REFS=()
NODE_NAMES=()
MODEL_URLS=()
MODEL_DIRS=()
MODEL_NAMES=()
MODEL_SHAS=()
MODEL_HOSTS=()
WORKFLOW_KINDS=()
WORKFLOW_SOURCES=()
WORKFLOW_NAMES=()

# Prints one contract line. Values lose line breaks and any token they might contain.
say() {
  local kind="$1" value
  shift
  local -a values=()
  for value in "$@"; do
    value="${value//[$'\r\n\t']/ }"
    # (Tokens shorter than 8 characters are not real tokens, and replacing them would garble lines.)
    if (( ${#HF_TOKEN} >= 8 )); then value="${value//"${HF_TOKEN}"/[redacted]}"; fi
    if (( ${#CIVITAI_TOKEN} >= 8 )); then value="${value//"${CIVITAI_TOKEN}"/[redacted]}"; fi
    values+=("$value")
  done
  # shellcheck disable=SC2059 # the format is a fixed contract template from CONTRACT, never data
  printf "${CONTRACT[$kind]}\n" "${values[@]}"
}

# The ERR trap (set -E makes it fire inside functions too); fail() calls it directly.
on_err() {
  local code="$1" line="$2"
  if (( code == 0 )); then code=1; fi
  if (( BASH_SUBSHELL > ERR_LEVEL )); then exit "$code"; fi
  trap - ERR
  if [[ -n $JOB_FILE ]]; then
    say download-failed "$JOB_FILE" "$JOB_ATTEMPT" "internal error at line ${line} (exit code ${code})"
    finish_job "$code"
  fi
  if [[ -z $FAIL_REPORTED ]]; then
    say failed "$CURRENT_STEP" "a command failed at line ${line} (exit code ${code})"
  fi
  say trap "$line" "$code"
  exit "$code"
}

arm_err_trap() {
  trap 'on_err "$?" "$LINENO"' ERR
}

# Ends the run in the current step with the contract failure line and the documented trap line.
fail() {
  FAIL_REPORTED=1
  say failed "$1" "$2"
  on_err 1 "${BASH_LINENO[0]}"
}

cleanup() {
  local pid
  for pid in "${JOB_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  if [[ -n $WORK_DIR ]]; then rm -rf -- "$WORK_DIR"; fi
}

run_step() {
  local started=$SECONDS
  CURRENT_STEP="$1"
  say stage-start "$1"
  "$2"
  say stage-done "$1" "$((SECONDS - started))"
}

have() {
  command -v "$1" >/dev/null 2>&1
}

pip_install() {
  if have uv; then
    uv pip install "$@"
  else
    pip install --no-cache-dir "$@"
  fi
}

# The installed version of a Python package, or nothing.
installed_version() {
  local out=""
  if have uv; then
    out="$(uv pip show "$1" 2>/dev/null)" || return 0
  elif have pip; then
    out="$(pip show "$1" 2>/dev/null)" || return 0
  fi
  awk '/^Version:/ { print $2; exit }' <<<"$out"
}

retry_delay() {
  printf '%d' "$((RETRY_BASE_SECONDS * (1 << ($1 - 1))))"
}

file_size() {
  local size=0
  if [[ -f $1 ]]; then size="$(wc -c <"$1")"; fi
  printf '%d' "$((size))"
}

now_us() {
  if [[ -n ${EPOCHREALTIME:-} ]]; then
    printf '%s' "${EPOCHREALTIME//[.,]/}"
  else
    printf '%s000000' "$(date +%s)"
  fi
}

# GET a small file (manifest, workflow) with curl, else wget; retried with doubling delays.
fetch_file() {
  local url="$1" dest="$2" label="$3" attempt=1 rc delay tool
  while true; do
    rc=0
    if have curl; then
      tool=curl
      curl -fsSL --connect-timeout 30 --max-time 600 -o "$dest" "$url" || rc=$?
    else
      tool=wget
      wget -q --timeout=60 --tries=1 -O "$dest" -- "$url" || rc=$?
    fi
    if (( rc == 0 )); then return 0; fi
    if (( attempt >= DOWNLOAD_ATTEMPTS )); then
      FETCH_REASON="${tool} exit ${rc} after ${attempt} attempts"
      return 1
    fi
    delay="$(retry_delay "$attempt")"
    say download-retry "$label" "$attempt" "$DOWNLOAD_ATTEMPTS" "$delay" "${tool} exit ${rc}"
    sleep "$delay"
    attempt=$((attempt + 1))
  done
}

step_setup() {
  local value
  for value in "$DOWNLOAD_SLOTS" "$DOWNLOAD_ATTEMPTS"; do
    [[ $value =~ ^[1-9][0-9]*$ ]] || fail setup "VASTDECK_DOWNLOAD_SLOTS and VASTDECK_DOWNLOAD_ATTEMPTS must be whole numbers from 1"
  done
  [[ $RETRY_BASE_SECONDS =~ ^[0-9]+$ ]] || fail setup "VASTDECK_RETRY_BASE_SECONDS must be a whole number of seconds"
  [[ $PROGRESS_SECONDS =~ ^[0-9]+(\.[0-9]+)?$ && ! $PROGRESS_SECONDS =~ ^0+(\.0+)?$ ]] || fail setup "VASTDECK_PROGRESS_SECONDS must be a positive number of seconds"
  have python3 || fail setup "python3 is missing: the manifest cannot be read"
  if [[ -f ${VENV_DIR}/bin/activate ]]; then
    # Activation scripts are not written for set -eu or an ERR trap: run them without.
    trap - ERR
    set +eu
    # shellcheck source=/dev/null # the virtualenv exists only on the instance
    source "${VENV_DIR}/bin/activate"
    set -eu
    arm_err_trap
  else
    say info "no virtualenv at ${VENV_DIR}; using the python on PATH"
  fi
  [[ -d $COMFYUI_DIR ]] || fail setup "ComfyUI not found at ${COMFYUI_DIR}: use the vastai/comfyui image, or set COMFYUI_DIR"
  mkdir -p "${COMFYUI_DIR}/custom_nodes" "$WORKFLOWS_DIR"
  if have uv; then
    say info "python packages install with uv pip into ${VIRTUAL_ENV:-the active python}"
  else
    say info "uv not found; python packages install with pip"
  fi
}

# Decides where the manifest comes from (no I/O beyond existence checks); the begin line shows it.
resolve_manifest_source() {
  local here
  here="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
  if [[ -n ${VASTDECK_MANIFEST_URL:-} ]]; then
    MANIFEST_URL="$VASTDECK_MANIFEST_URL"
    MANIFEST_SHOWN="${VASTDECK_MANIFEST_URL%%[?#]*}"
  elif [[ -n ${VASTDECK_MANIFEST:-} ]]; then
    MANIFEST_FILE="$VASTDECK_MANIFEST"
  elif [[ -f ${WORKSPACE}/vastdeck/manifest.json ]]; then
    MANIFEST_FILE="${WORKSPACE}/vastdeck/manifest.json"
  else
    MANIFEST_FILE="${here}/manifest.json"
  fi
  if [[ -n $MANIFEST_FILE ]]; then MANIFEST_SHOWN="$MANIFEST_FILE"; fi
  MANIFEST_SHOWN="${MANIFEST_SHOWN// /%20}"
}

step_manifest() {
  local file base records rc=0 kind a b c d e
  if [[ -n $MANIFEST_URL ]]; then
    file="${WORK_DIR}/manifest.json"
    base="$MANIFEST_URL"
    fetch_file "$MANIFEST_URL" "$file" manifest.json || fail manifest "could not fetch the manifest from ${MANIFEST_SHOWN} (${FETCH_REASON})"
  else
    file="$MANIFEST_FILE"
    [[ -f $file ]] || fail manifest "no manifest at ${file}: set VASTDECK_MANIFEST_URL or VASTDECK_MANIFEST, or put manifest.json in ${WORKSPACE}/vastdeck"
    base="$(cd -- "$(dirname -- "$file")" && pwd)"
  fi
  records="$(parse_manifest "$file" "$base")" || rc=$?
  if (( rc != 0 )); then
    local first="" count=0
    while IFS=$'\x1f' read -r kind a; do
      if [[ $kind == error ]]; then
        count=$((count + 1))
        if [[ -z $first ]]; then first="$a"; fi
      fi
    done <<<"$records"
    if [[ -z $first ]]; then fail manifest "python3 could not read the manifest (exit ${rc})"; fi
    if (( count > 1 )); then first="${first} (and $((count - 1)) more problems)"; fi
    fail manifest "$first"
  fi
  while IFS=$'\x1f' read -r kind a b c d e; do
    case "$kind" in
      apt) APT_PACKAGES+=("$a") ;;
      pip) PIP_PACKAGES+=("$a") ;;
      node) NODE_URLS+=("$a"); NODE_REFS+=("$b"); NODE_NAMES+=("$c") ;;
      model) MODEL_URLS+=("$a"); MODEL_DIRS+=("$b"); MODEL_NAMES+=("$c"); MODEL_SHAS+=("$d"); MODEL_HOSTS+=("$e") ;;
      workflow) WORKFLOW_KINDS+=("$a"); WORKFLOW_SOURCES+=("$b"); WORKFLOW_NAMES+=("$c") ;;
      args) EXTRA_ARGS="$a" ;;
      autoupdate) AUTO_UPDATE_NODES="$a" ;;
      *) ;;
    esac
  done <<<"$records"
  say info "manifest: ${#NODE_URLS[@]} nodes, ${#MODEL_URLS[@]} models, ${#WORKFLOW_NAMES[@]} workflows, ${#PIP_PACKAGES[@]} pip and ${#APT_PACKAGES[@]} apt packages"
}

# Checks the manifest (the same rules and sentences as source/core/provisioning/manifest.ts) and
# prints one shell-safe record per item, fields separated by US (0x1f); exit 3 with error records.
parse_manifest() {
  python3 - "$1" "$2" "${MODEL_FOLDERS[*]}" <<'PY'
import json, os, re, sys
from urllib.parse import unquote, urljoin, urlsplit

path, base, folders = sys.argv[1], sys.argv[2], sys.argv[3].split()
SEP = "\x1f"
TOP = ["nodes", "models", "workflows", "pip", "apt", "comfyuiArgs", "autoUpdateNodes"]
FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+-]{0,199}")
NODE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
GIT_REF = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/+-]*")
SHA256 = re.compile(r"[0-9a-fA-F]{64}")
PIP_SPEC = re.compile(r"[A-Za-z0-9_.][^\s'\"`$\\;&|<>]*")
APT_NAME = re.compile(r"[a-z0-9][a-z0-9+.:=~-]*")
ARGS = re.compile(r"[A-Za-z0-9 ._:/=,+-]*")
UNSAFE = re.compile(r"[\x00-\x20\x7f\"'`\\<>]")
problems, out = [], []

def listing(items):
    return items[0] if len(items) < 2 else ", ".join(items[:-1]) + " and " + items[-1]

def bare(url):
    return re.sub(r"[?#].*$", "", url)

def last_segment(source):
    parts = [part for part in bare(source).split("/") if part]
    return unquote(parts[-1]) if parts else ""

def is_url(value):
    if not isinstance(value, str) or UNSAFE.search(value):
        return False
    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False

def check_url(entry, at):
    value = entry.get("url")
    if value is None:
        problems.append(f'{at} is missing its "url".')
        return None
    if not is_url(value):
        shown = bare(value) if isinstance(value, str) else json.dumps(value)
        problems.append(f"{at}.url {shown} is not an http(s) URL.")
        return None
    return value

def unknown(entry, at, known):
    for key in entry:
        if key not in known:
            problems.append(f'{at} has an unknown field "{key}"; the fields are {listing(known)}.')

def entries(data, field):
    values = data.get(field)
    if values is None:
        return []
    if not isinstance(values, list):
        problems.append(f'"{field}" must be a list.')
        return []
    found = []
    for index, entry in enumerate(values):
        at = f"{field}[{index}]"
        if isinstance(entry, dict):
            found.append((at, index, entry))
        else:
            problems.append(f"{at} must be an object.")
    return found

def duplicate(seen, key, at, field, index, target):
    if key in seen:
        problems.append(f"{at} and {field}[{seen[key]}] both write {target}; give one of them another name.")
        return True
    seen[key] = index
    return False

def strings(data, field, pattern, what):
    values = data.get(field)
    if values is None:
        return []
    if not isinstance(values, list):
        problems.append(f'"{field}" must be a list.')
        return []
    good = []
    for index, value in enumerate(values):
        if isinstance(value, str) and pattern.fullmatch(value):
            good.append(value)
        else:
            problems.append(f"{field}[{index}] {json.dumps(value)} must be {what}.")
    return good

try:
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
except (OSError, ValueError) as error:
    print(f"error{SEP}The manifest is not valid JSON: {error}.".replace("\n", " "))
    sys.exit(3)

if not isinstance(data, dict):
    print(f"error{SEP}The manifest must be a JSON object with any of {listing(TOP)}.")
    sys.exit(3)
for key in data:
    if key not in TOP and key not in ("$schema", "$comment"):
        problems.append(f'The manifest has an unknown field "{key}"; the fields are {listing(TOP)}.')

seen = {}
for at, index, node in entries(data, "nodes"):
    unknown(node, at, ["url", "ref"])
    url = check_url(node, at)
    ref = node.get("ref")
    if ref is not None and not (isinstance(ref, str) and GIT_REF.fullmatch(ref)):
        problems.append(f"{at}.ref must be a git branch, tag or commit (letters, digits and ._/+-).")
        ref = None
    if url is None:
        continue
    name = re.sub(r"\.git$", "", last_segment(url))
    if not NODE_NAME.fullmatch(name) or name == "..":
        problems.append(f"{at}.url {bare(url)} does not end in a repository name to clone into custom_nodes.")
        continue
    if not duplicate(seen, name, at, "nodes", index, f"custom_nodes/{name}"):
        out.append(["node", url, ref or "", name])

seen = {}
for at, index, model in entries(data, "models"):
    unknown(model, at, ["url", "folder", "filename", "sha256"])
    url = check_url(model, at)
    folder = model.get("folder")
    if folder is None:
        problems.append(f'{at} is missing its "folder" (one of {listing(folders)}).')
    elif not (isinstance(folder, str) and folder in folders):
        problems.append(f"{at}.folder {json.dumps(folder)} is not a ComfyUI model folder; use one of {listing(folders)}.")
        folder = None
    sha = model.get("sha256")
    if sha is not None and not (isinstance(sha, str) and SHA256.fullmatch(sha)):
        problems.append(f"{at}.sha256 must be 64 hexadecimal digits.")
    name = None
    if model.get("filename") is not None:
        if isinstance(model["filename"], str) and FILE_NAME.fullmatch(model["filename"]):
            name = model["filename"]
        else:
            problems.append(f"{at}.filename must be a plain file name (letters, digits and ._+-, no folders or spaces).")
    elif url is not None:
        derived = last_segment(url)
        if FILE_NAME.fullmatch(derived) and "." in derived:
            name = derived
        else:
            problems.append(f'{at} ({bare(url)}) needs a "filename": its URL does not end in a file name.')
    if name is None or not isinstance(folder, str):
        continue
    if not duplicate(seen, f"{folder}/{name}", at, "models", index, f"models/{folder}/{name}") and url is not None:
        out.append(["model", url, folder, name, (sha or "").lower(), (urlsplit(url).hostname or "").lower()])

seen = {}
for at, index, workflow in entries(data, "workflows"):
    unknown(workflow, at, ["url", "path"])
    has_url, has_path = "url" in workflow, "path" in workflow
    if has_url == has_path:
        problems.append(f'{at} needs exactly one of "url" or "path".')
        continue
    if has_url:
        source = check_url(workflow, at)
        kind = "url"
    else:
        source = workflow["path"]
        kind = "file"
        if not isinstance(source, str) or not source.strip() or re.search(r"[\x00\n\r]", source):
            problems.append(f"{at}.path must be a file path (relative to the manifest, or absolute).")
            source = None
    if source is None:
        continue
    name = last_segment(source)
    if not FILE_NAME.fullmatch(name) or not name.lower().endswith(".json"):
        problems.append(f"{at} must name a .json file (letters, digits and ._+-), not {json.dumps(name)}.")
        continue
    if kind == "file":
        if re.match(r"https?://", base):
            kind, source = "url", urljoin(base, source)
        elif not os.path.isabs(source):
            source = os.path.normpath(os.path.join(base, source))
    if not duplicate(seen, name, at, "workflows", index, f"user/default/workflows/{name}"):
        out.append(["workflow", kind, source, name])

for value in strings(data, "apt", APT_NAME, "an apt package name"):
    out.append(["apt", value])
for value in strings(data, "pip", PIP_SPEC, "a pip requirement without spaces or shell characters, not an option"):
    out.append(["pip", value])
args = data.get("comfyuiArgs")
if args is not None:
    if isinstance(args, str) and ARGS.fullmatch(args):
        out.append(["args", " ".join(args.split())])
    else:
        problems.append('"comfyuiArgs" must be a string of ComfyUI options using only letters, digits, spaces and ._:/=,+- (no quotes or shell characters).')
update = data.get("autoUpdateNodes")
if update is not None and not isinstance(update, bool):
    problems.append('"autoUpdateNodes" must be true or false.')
out.append(["autoupdate", "0" if update is False else "1"])

if problems:
    for problem in problems:
        print(f"error{SEP}{problem}")
    sys.exit(3)
for record in out:
    if any(SEP in field or "\n" in field or "\r" in field for field in record):
        print(f"error{SEP}The manifest contains control characters.")
        sys.exit(3)
    print(SEP.join(record))
PY
}

step_apt() {
  if (( ${#APT_PACKAGES[@]} == 0 )); then
    say info "no apt packages in the manifest"
    return 0
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update || fail apt "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${APT_PACKAGES[@]}" || fail apt "apt-get install ${APT_PACKAGES[*]} failed"
}

cc_value() {
  printf '%d' "$((10#${1%%.*} * 10 + 10#${1#*.}))"
}

# The lowest compute capability of the GPUs (e.g. 8.9), or "none".
gpu_compute_cap() {
  local out="" line lowest=""
  if have nvidia-smi; then
    out="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null)" || out=""
  fi
  while IFS= read -r line; do
    line="${line//[[:space:]]/}"
    if [[ ! $line =~ ^[0-9]+\.[0-9]$ ]]; then continue; fi
    if [[ -z $lowest ]] || (( $(cc_value "$line") < $(cc_value "$lowest") )); then lowest="$line"; fi
  done <<<"$out"
  printf '%s' "${lowest:-none}"
}

step_sage() {
  local cc arch triton
  cc="$(gpu_compute_cap)"
  arch="${VASTDECK_ARCH:-$(uname -m)}"
  say gpu "$cc" "$arch"
  if [[ $arch != x86_64 && $arch != amd64 ]]; then
    say sage-fallback "the CPU is ${arch} and SageAttention wheels are amd64-only; ComfyUI uses PyTorch attention"
    return 0
  fi
  if [[ $cc == none ]]; then
    say sage-fallback "no GPU compute capability found (nvidia-smi); ComfyUI uses PyTorch attention"
    return 0
  fi
  if (( $(cc_value "$cc") < SAGE_MIN_CC )); then
    say sage-fallback "compute capability ${cc} is below 8.0; ComfyUI uses PyTorch attention"
    return 0
  fi
  # Never replace the Triton the image's torch was built with; pin it only when it is missing.
  triton="$(installed_version triton)"
  local -a specs=("sageattention==${SAGEATTENTION_VERSION}")
  if [[ -z $triton ]]; then
    triton="$TRITON_VERSION"
    specs+=("triton==${TRITON_VERSION}")
  fi
  if pip_install "${specs[@]}"; then
    SAGE_OK=1
    say sage-install "$triton" "$SAGEATTENTION_VERSION"
  else
    say sage-fallback "installing ${specs[*]} failed; ComfyUI uses PyTorch attention"
  fi
}

step_pip() {
  if (( ${#PIP_PACKAGES[@]} == 0 )); then
    say info "no pip packages in the manifest"
    return 0
  fi
  pip_install "${PIP_PACKAGES[@]}" || fail pip "installing ${PIP_PACKAGES[*]} failed"
}

step_nodes() {
  local i url ref name dest
  for ((i = 0; i < ${#NODE_URLS[@]}; i++)); do
    url="${NODE_URLS[$i]}"
    ref="${NODE_REFS[$i]}"
    name="${NODE_NAMES[$i]}"
    dest="${COMFYUI_DIR}/custom_nodes/${name}"
    if [[ -e $dest && ! -d ${dest}/.git ]]; then
      say info "custom_nodes/${name} exists but is not a git checkout; kept as it is"
      say node keep "$name" "${ref:--}"
      continue
    fi
    if [[ -d $dest ]]; then
      if (( AUTO_UPDATE_NODES == 0 )); then
        say node keep "$name" "${ref:--}"
        continue
      fi
      say node update "$name" "${ref:--}"
      if [[ -n $ref ]]; then
        git -C "$dest" fetch --tags origin || fail nodes "git fetch of ${name} failed"
        git -C "$dest" checkout --quiet "$ref" || fail nodes "${name} has no ref ${ref}"
        if git -C "$dest" symbolic-ref -q HEAD >/dev/null; then
          git -C "$dest" pull --ff-only || fail nodes "git pull of ${name} failed"
        fi
      else
        git -C "$dest" pull --ff-only || fail nodes "git pull of ${name} failed"
      fi
    else
      say node clone "$name" "${ref:--}"
      git clone --recursive "$url" "$dest" || fail nodes "git clone of ${name} failed"
      if [[ -n $ref ]]; then
        git -C "$dest" checkout --quiet "$ref" || fail nodes "${name} has no ref ${ref}"
      fi
    fi
    if [[ -n $ref ]]; then
      git -C "$dest" submodule update --init --recursive || fail nodes "the submodules of ${name} failed to update"
    fi
    if [[ -f ${dest}/requirements.txt ]]; then
      pip_install -r "${dest}/requirements.txt" || fail nodes "installing the requirements of ${name} failed"
    fi
  done
}

# One private wgetrc per token, so the Authorization header never appears on a command line.
make_wgetrc() {
  (umask 077 && : >"$1")
  if [[ -n $2 ]]; then printf 'header = Authorization: Bearer %s\n' "$2" >"$1"; fi
}

wgetrc_for() {
  case "$1" in
    huggingface.co | *.huggingface.co | hf.co | *.hf.co) printf '%s' "${WORK_DIR}/hf.wgetrc" ;;
    civitai.com | *.civitai.com) printf '%s' "${WORK_DIR}/civitai.wgetrc" ;;
    *) printf '%s' "${WORK_DIR}/plain.wgetrc" ;;
  esac
}

# The total size wget announced ("Length: 6938078334 (6.5G) ..."; for a resume the first number
# is still the whole file), or 0.
content_length() {
  local length=0 line
  if [[ -f $1 ]]; then
    while IFS= read -r line; do
      if [[ $line =~ ^Length:\ ([0-9]+) ]]; then length="${BASH_REMATCH[1]}"; fi
    done <"$1"
  fi
  printf '%d' "$length"
}

# Prints a progress line every PROGRESS_SECONDS while wget ($1) runs.
watch_progress() {
  local pid="$1" part="$2" log="$3" name="$4" bytes before stamp previous total pct rate
  before="$(file_size "$part")"
  previous="$(now_us)"
  while kill -0 "$pid" 2>/dev/null; do
    sleep "$PROGRESS_SECONDS"
    bytes="$(file_size "$part")"
    stamp="$(now_us)"
    total="$(content_length "$log")"
    rate=0
    if (( stamp > previous && bytes > before )); then rate=$(((bytes - before) * 1000000 / (stamp - previous))); fi
    pct=0
    if (( total > 0 )); then pct=$((bytes * 100 / total)); fi
    if (( pct > 100 )); then pct=100; fi
    say download-progress "$name" "$bytes" "$total" "$pct" "$rate"
    before=$bytes
    previous=$stamp
  done
}

# One wget run, resuming $2 (-c); returns wget's exit code.
fetch_model() {
  local url="$1" part="$2" log="$3" name="$4" host="$5" pid rc=0
  WGETRC="$(wgetrc_for "$host")" wget -c --tries=1 --timeout=60 --progress=dot:giga -o "$log" -O "$part" -- "$url" &
  pid=$!
  watch_progress "$pid" "$part" "$log" "$name"
  wait "$pid" || rc=$?
  return "$rc"
}

# Sets WGET_REASON from wget's exit code and log, and WGET_PERMANENT=1 for HTTP errors a retry
# cannot fix (4xx other than 408 and 429).
explain_wget() {
  local rc="$1" log="$2" line detail="" what
  case "$rc" in
    3) what="file I/O error" ;;
    4) what="network failure" ;;
    5) what="SSL verification failure" ;;
    6) what="authentication failed" ;;
    8) what="the server answered with an error" ;;
    *) what="error" ;;
  esac
  if [[ -f $log ]]; then
    while IFS= read -r line; do
      if [[ $line =~ (ERROR\ [0-9]{3}.*)$ ]]; then detail="${BASH_REMATCH[1]}"; fi
    done <"$log"
  fi
  WGET_PERMANENT=0
  if [[ $detail =~ ^ERROR\ 4[0-9][0-9] && ! $detail =~ ^ERROR\ (408|429) ]]; then WGET_PERMANENT=1; fi
  WGET_REASON="wget exit ${rc} (${detail:-$what})"
}

sha_matches() {
  local sum
  sum="$(sha256sum -- "$1")"
  [[ ${sum%% *} == "$2" ]]
}

finish_job() {
  printf '%s\n' "$1" >"${WORK_DIR}/jobs/${JOB_INDEX}"
  exit "$1"
}

# A background download job: model $1 into models/<folder>/<file> via <file>.part (so ComfyUI never
# sees a partial file), resumed and retried with doubling delays; reports its result in jobs/<index>.
model_job() {
  JOB_INDEX="$1"
  ERR_LEVEL=$BASH_SUBSHELL
  local url="${MODEL_URLS[$1]}" folder="${MODEL_DIRS[$1]}" name="${MODEL_NAMES[$1]}"
  local sha="${MODEL_SHAS[$1]}" host="${MODEL_HOSTS[$1]}"
  local dest="${MODELS_DIR}/${folder}/${name}"
  local part="${dest}.part" log="${WORK_DIR}/wget-${folder}-${name}.log"
  local attempt=1 started rc reason delay
  JOB_FILE="$name"
  if [[ -f $dest ]]; then
    say info "models/${folder}/${name} is already there; not downloading it again"
    say download-done "$name" "$(file_size "$dest")" 0
    finish_job 0
  fi
  mkdir -p "${MODELS_DIR}/${folder}"
  say download-start "$name" "$folder" "$host"
  started=$SECONDS
  while true; do
    JOB_ATTEMPT=$attempt
    rc=0
    fetch_model "$url" "$part" "$log" "$name" "$host" || rc=$?
    if (( rc == 0 )); then
      if [[ -z $sha ]] || sha_matches "$part" "$sha"; then
        mv -f -- "$part" "$dest"
        say download-done "$name" "$(file_size "$dest")" "$((SECONDS - started))"
        finish_job 0
      fi
      rm -f -- "$part"
      reason="sha256 mismatch; the file is downloaded again from the start"
    else
      explain_wget "$rc" "$log"
      reason="$WGET_REASON"
      if (( WGET_PERMANENT == 1 )); then
        say download-failed "$name" "$attempt" "$reason"
        finish_job 1
      fi
    fi
    if (( attempt >= DOWNLOAD_ATTEMPTS )); then
      say download-failed "$name" "$attempt" "$reason"
      finish_job 1
    fi
    delay="$(retry_delay "$attempt")"
    say download-retry "$name" "$attempt" "$DOWNLOAD_ATTEMPTS" "$delay" "$reason"
    sleep "$delay"
    attempt=$((attempt + 1))
  done
}

finished_jobs() {
  local count=0 file
  for file in "${WORK_DIR}"/jobs/*; do
    if [[ -e $file ]]; then count=$((count + 1)); fi
  done
  printf '%d' "$count"
}

step_models() {
  local count=${#MODEL_URLS[@]} i pid status
  if (( count == 0 )); then
    say info "no models in the manifest"
    return 0
  fi
  make_wgetrc "${WORK_DIR}/hf.wgetrc" "$HF_TOKEN"
  make_wgetrc "${WORK_DIR}/civitai.wgetrc" "$CIVITAI_TOKEN"
  make_wgetrc "${WORK_DIR}/plain.wgetrc" ""
  for ((i = 0; i < count; i++)); do
    case "${MODEL_HOSTS[$i]}" in
      huggingface.co | *.huggingface.co | hf.co | *.hf.co)
        if [[ -z $HF_TOKEN ]]; then say info "HF_TOKEN is not set: gated Hugging Face models (e.g. ${MODEL_NAMES[$i]}) answer 401"; fi ;;
      civitai.com | *.civitai.com)
        if [[ -z $CIVITAI_TOKEN ]]; then say info "CIVITAI_TOKEN is not set: many CivitAI downloads (e.g. ${MODEL_NAMES[$i]}) answer 401"; fi ;;
      *) ;;
    esac
  done
  mkdir -p "${WORK_DIR}/jobs"
  say download-batch "$count" "$MODELS_DIR" "$DOWNLOAD_SLOTS"
  for ((i = 0; i < count; i++)); do
    while (( i - $(finished_jobs) >= DOWNLOAD_SLOTS )); do sleep 0.2; done
    model_job "$i" &
    JOB_PIDS+=("$!")
  done
  for pid in "${JOB_PIDS[@]}"; do
    wait "$pid" || true
  done
  JOB_PIDS=()
  local -a failed=()
  for ((i = 0; i < count; i++)); do
    status=missing
    if [[ -f ${WORK_DIR}/jobs/${i} ]]; then status="$(<"${WORK_DIR}/jobs/${i}")"; fi
    if [[ $status != 0 ]]; then failed+=("${MODEL_NAMES[$i]}"); fi
  done
  if (( ${#failed[@]} > 0 )); then
    fail models "${#failed[@]} of ${count} downloads failed: ${failed[*]}"
  fi
}

step_workflows() {
  local i name source dest
  if (( ${#WORKFLOW_NAMES[@]} == 0 )); then
    say info "no workflows in the manifest"
    return 0
  fi
  for ((i = 0; i < ${#WORKFLOW_NAMES[@]}; i++)); do
    name="${WORKFLOW_NAMES[$i]}"
    source="${WORKFLOW_SOURCES[$i]}"
    dest="${WORKFLOWS_DIR}/${name}"
    if [[ ${WORKFLOW_KINDS[$i]} == url ]]; then
      fetch_file "$source" "${dest}.part" "$name" || fail workflows "could not download ${name} from ${source%%[?#]*} (${FETCH_REASON})"
    else
      [[ -f $source ]] || fail workflows "no workflow file at ${source}"
      cp -- "$source" "${dest}.part"
    fi
    python3 -c 'import json, sys; json.load(open(sys.argv[1], encoding="utf-8"))' "${dest}.part" 2>/dev/null || {
      rm -f -- "${dest}.part"
      fail workflows "${name} is not valid JSON"
    }
    mv -f -- "${dest}.part" "$dest"
    say workflow "$name"
  done
}

# COMFYUI_ARGS for ComfyUI: the instance's (set by vastdeck at create) with --use-sage-attention
# matching what was installed, plus the manifest's comfyuiArgs. The image's supervisor scripts
# source $WORKSPACE/.env (utils/environment.sh), so the value goes there; comfyui.sh read it before
# provisioning began, so the waiting program is restarted to pick it up on this boot.
step_args() {
  local current="${COMFYUI_ARGS:-$DEFAULT_COMFYUI_ARGS}" word args env_file="${WORKSPACE}/.env"
  local -a words=() kept=()
  read -ra words <<<"$current"
  for word in "${words[@]}"; do
    if [[ $word != --use-sage-attention ]]; then kept+=("$word"); fi
  done
  if (( SAGE_OK == 1 )); then kept+=(--use-sage-attention); fi
  if [[ -n $EXTRA_ARGS ]]; then
    read -ra words <<<"$EXTRA_ARGS"
    kept+=("${words[@]}")
  fi
  args="${kept[*]}"
  if [[ -f $env_file ]]; then
    awk '/^# >>> vastdeck/ { skip = 1 } !skip { print } /^# <<< vastdeck/ { skip = 0 }' "$env_file" >"${env_file}.vastdeck"
  else
    : >"${env_file}.vastdeck"
  fi
  printf "# >>> vastdeck provision.sh (rewritten on every run)\nCOMFYUI_ARGS='%s'\n# <<< vastdeck\n" "${args//\'/\'\\\'\'}" >>"${env_file}.vastdeck"
  mv -f -- "${env_file}.vastdeck" "$env_file"
  say comfyui-args "$args"
  if [[ $args == "$current" ]]; then return 0; fi
  if [[ -f /.provisioning ]] && have supervisorctl; then
    if supervisorctl restart comfyui >/dev/null 2>&1; then
      say info "restarted the waiting comfyui program so it starts with these arguments"
    else
      say info "could not restart comfyui; the arguments apply from its next start"
    fi
  else
    say info "the arguments apply when comfyui next starts (it sources ${env_file})"
  fi
}

main() {
  arm_err_trap
  trap cleanup EXIT
  WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/vastdeck.XXXXXX")"
  resolve_manifest_source
  say begin "$SCRIPT_VERSION" "$MANIFEST_SHOWN"
  run_step setup step_setup
  run_step manifest step_manifest
  run_step apt step_apt
  run_step sage step_sage
  run_step pip step_pip
  run_step nodes step_nodes
  run_step models step_models
  run_step workflows step_workflows
  run_step args step_args
  say complete "$((SECONDS - START_SECONDS))"
}

main "$@"
