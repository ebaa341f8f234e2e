#!/usr/bin/env python3
"""Checks of the CI recipes in docs/ci that actionlint does not make.

  check_recipes.py github FILE      every `uses:` pinned to a commit SHA with its version in a
                                    comment, given only inputs its action.yml at that commit
                                    declares and all it requires; every JUnit file a test
                                    reporter reads and every uploaded report is written by a
                                    txlab command of the same job; the cached path is its
                                    --history directory
  check_recipes.py gitlab FILE      valid YAML; `stages`; every job in a declared stage, with a
                                    non-empty `script` list of strings, only GitLab job keywords,
                                    an image whose entrypoint is reset (txlab's image has txlab
                                    as entrypoint); `artifacts:reports:junit` and
                                    `artifacts:paths` written by the job's script (`--junit`,
                                    `--html`, `--json`), with `artifacts:when: always`; cache paths
                                    are the job's `--history` directory
  check_recipes.py flags TXLAB FILE...
                                    every `txlab CMD ...` command line of the recipes uses only
                                    flags that `TXLAB CMD --help` lists

What the gitlab check does not do: it does not evaluate `rules:`, variables or `include:`, nor
check keyword values against GitLab's schema (GitLab's own linter needs a GitLab instance).
Exit 0 when clean, 1 with one line per finding (FILE: ...), 2 on usage errors.
"""
import re
import shlex
import subprocess
import sys

import yaml

GITLAB_TOP = {"default", "include", "stages", "variables", "workflow", "image", "services",
              "cache", "before_script", "after_script"}
GITLAB_JOB_KEYS = {
    "after_script", "allow_failure", "artifacts", "before_script", "cache", "coverage",
    "dast_configuration", "dependencies", "environment", "extends", "hooks", "identity",
    "id_tokens", "image", "inherit", "interruptible", "manual_confirmation", "needs", "pages",
    "parallel", "release", "resource_group", "retry", "rules", "run", "script", "secrets",
    "services", "stage", "tags", "timeout", "trigger", "variables", "when"}
TXLAB_COMMANDS = {"run", "serve", "lint", "export", "health", "load", "attack", "conform",
                  "schema"}
SEPARATORS = {";", "&&", "||", "|", "&", "(", ")", "\n"}

# The inputs of each pinned action (read from its action.yml at that commit), required ones
# first: actionlint knows inputs only of actions referenced by tag, not by SHA. A new pin needs
# its line here.
ACTION_INPUTS = {
    "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1": ([], [  # v7.0.1
        "allow-unsafe-pr-checkout", "clean", "fetch-depth", "fetch-tags", "filter",
        "github-server-url", "lfs", "path", "persist-credentials", "ref", "repository",
        "set-safe-directory", "show-progress", "sparse-checkout", "sparse-checkout-cone-mode",
        "ssh-key", "ssh-known-hosts", "ssh-strict", "ssh-user", "submodules", "token"]),
    "actions/cache/restore@27d5ce7f107fe9357f9df03efb73ab90386fccae": (["key", "path"], [  # v5.0.5
        "enableCrossOsArchive", "fail-on-cache-miss", "lookup-only", "restore-keys"]),
    "actions/cache/save@27d5ce7f107fe9357f9df03efb73ab90386fccae": (["key", "path"], [  # v5.0.5
        "enableCrossOsArchive", "upload-chunk-size"]),
    "actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f": (["path"], [  # v7.0.0
        "archive", "compression-level", "if-no-files-found", "include-hidden-files", "name",
        "overwrite", "retention-days"]),
    "dorny/test-reporter@a43b3a5f7366b97d083190328d2c652e1a8b6aa2": (["name", "path", "reporter"], [
        # v3.0.0
        "artifact", "badge-title", "collapsed", "fail-on-empty", "fail-on-error",
        "list-suites", "list-tests", "max-annotations", "only-summary", "path-replace-backslashes",
        "report-title", "token", "use-actions-summary", "working-directory"]),
}


def load(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        return text, yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        sys.exit(print(f"{where}: not valid YAML: {getattr(e, 'problem', e)}") or 1)


def txlab_lines(script):
    """Each `txlab CMD args...` in a shell script, as (CMD, [args]); continuations joined."""
    script = script.replace("\\\n", " ")
    found = []
    for line in script.split("\n"):
        lex = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
        lex.whitespace_split = True
        lex.commenters = "#"
        try:
            tokens = list(lex)
        except ValueError:
            tokens = line.split()
        i = 0
        while i < len(tokens):
            if tokens[i] == "txlab" and i + 1 < len(tokens) and tokens[i + 1] in TXLAB_COMMANDS:
                j = i + 2
                while j < len(tokens) and tokens[j] not in SEPARATORS:
                    j += 1
                found.append((tokens[i + 1], tokens[i + 2:j]))
                i = j
            else:
                i += 1
    return found


def written(scripts):
    """The files the txlab commands of these scripts write, by flag."""
    out = {"--junit": set(), "--html": set(), "--json": set(), "--history": set()}
    for s in scripts:
        for _, args in txlab_lines(s):
            for k, v in zip(args, args[1:]):
                if k in out:
                    out[k].add(v.rstrip("/"))
    return out


def as_list(v):
    return v if isinstance(v, list) else [] if v is None else [v]


def check_github(path):
    text, doc = load(path)
    bad = []
    for n, line in enumerate(text.splitlines(), 1):
        m = re.match(r"\s*(?:-\s+)?uses:\s*(\S+)(.*)$", line)
        if not m or m.group(1).startswith(("./", "docker://")):
            continue
        ref = m.group(1).partition("@")[2]
        if not re.fullmatch(r"[0-9a-f]{40}", ref) or not re.match(r"\s*#\s*v\d", m.group(2)):
            bad.append(f"{path}:{n}: {m.group(1)} is not pinned to a commit SHA with '# vX.Y.Z'")
    for name, job in (doc.get("jobs") or {}).items():
        steps = job.get("steps") or []
        w = written([s["run"] for s in steps if "run" in s])
        files = w["--junit"] | w["--html"] | w["--json"]
        for s in steps:
            uses, with_ = s.get("uses", ""), s.get("with") or {}
            if uses and uses not in ACTION_INPUTS:
                bad.append(f"{path}: job {name}: {uses}: not in ACTION_INPUTS (add its inputs)")
            elif uses:
                required, optional = ACTION_INPUTS[uses]
                for k in sorted(set(with_) - set(required) - set(optional)):
                    bad.append(f"{path}: job {name}: {uses.split('@')[0]} has no input {k!r}")
                for k in sorted(set(required) - set(with_)):
                    bad.append(f"{path}: job {name}: {uses.split('@')[0]} needs input {k!r}")
            if uses.startswith("dorny/test-reporter@") and with_.get("path") not in w["--junit"]:
                bad.append(f"{path}: job {name}: the test reporter reads {with_.get('path')!r}, "
                           f"no txlab --junit writes it")
            if uses.startswith("actions/upload-artifact@"):
                for p in str(with_.get("path", "")).split():
                    if p not in files:
                        bad.append(f"{path}: job {name}: uploads {p!r}, no txlab command writes it")
            if uses.startswith("actions/cache") and with_.get("path") not in w["--history"]:
                bad.append(f"{path}: job {name}: caches {with_.get('path')!r}, not a --history dir")
    return bad


def check_gitlab(path):
    _, doc = load(path)
    if not isinstance(doc, dict):
        return [f"{path}: not a mapping of jobs"]
    bad = []
    stages = doc.get("stages")
    if not isinstance(stages, list) or not stages:
        bad.append(f"{path}: no `stages` list")
        stages = []
    default_image = (doc.get("default") or {}).get("image") or doc.get("image")
    jobs = {k: v for k, v in doc.items() if k not in GITLAB_TOP and not k.startswith(".")}
    if not jobs:
        bad.append(f"{path}: no jobs")
    for name, job in jobs.items():
        if not isinstance(job, dict):
            bad.append(f"{path}: job {name}: not a mapping")
            continue
        for k in sorted(set(job) - GITLAB_JOB_KEYS):
            bad.append(f"{path}: job {name}: unknown keyword {k!r}")
        if job.get("stage", "test") not in stages:
            bad.append(f"{path}: job {name}: stage {job.get('stage', 'test')!r} is not in stages")
        script = job.get("script")
        if not isinstance(script, list) or not script or not all(isinstance(s, str) for s in script):
            bad.append(f"{path}: job {name}: `script` is not a non-empty list of strings")
            script = []
        image = job.get("image", default_image)
        if not isinstance(image, dict) or image.get("entrypoint") != [""]:
            bad.append(f"{path}: job {name}: the image's entrypoint is not reset (entrypoint: [\"\"])")
        w = written(script)
        art = job.get("artifacts") or {}
        junit = as_list((art.get("reports") or {}).get("junit"))
        for p in junit:
            if p not in w["--junit"]:
                bad.append(f"{path}: job {name}: artifacts:reports:junit {p!r}: no txlab --junit writes it")
        for p in as_list(art.get("paths")):
            if p.rstrip("/") not in w["--html"] | w["--json"] | w["--junit"]:
                bad.append(f"{path}: job {name}: artifacts:paths {p!r}: no txlab command writes it")
        if junit and art.get("when") != "always":
            bad.append(f"{path}: job {name}: artifacts are not kept when the job fails (when: always)")
        for c in as_list(job.get("cache")):
            for p in as_list(c.get("paths")):
                if p.rstrip("/") not in w["--history"]:
                    bad.append(f"{path}: job {name}: caches {p!r}, not a --history dir")
    return bad


def scripts_of(doc):
    """Every shell script in a GitHub workflow (steps' run) or a GitLab file (script lists)."""
    if "jobs" in doc:
        return [s["run"] for j in doc["jobs"].values() for s in j.get("steps") or [] if "run" in s]
    out = []
    for k, v in doc.items():
        if isinstance(v, dict):
            for key in ("before_script", "script", "after_script"):
                out += [s for s in as_list(v.get(key)) if isinstance(s, str)]
    return out


def check_flags(txlab, paths):
    bad, helps, seen = [], {}, 0
    for path in paths:
        _, doc = load(path)
        for cmd, args in (c for s in scripts_of(doc) for c in txlab_lines(s)):
            if cmd not in helps:
                r = subprocess.run([txlab, cmd, "--help"], capture_output=True, text=True, timeout=30)
                helps[cmd] = r.stdout + r.stderr if r.returncode == 0 else None
            if helps[cmd] is None:
                bad.append(f"{path}: txlab {cmd}: `{txlab} {cmd} --help` failed")
                continue
            for a in args:
                flag = a.split("=", 1)[0]
                if not flag.startswith("--"):
                    continue
                seen += 1
                if not re.search(r"^\s+" + re.escape(flag) + r"(\s|$)", helps[cmd], re.M):
                    bad.append(f"{path}: txlab {cmd} {flag}: not a flag of `txlab {cmd}`")
    if seen == 0:
        bad.append("no txlab command line with a flag found in " + " ".join(paths))
    return bad, seen


def main(argv):
    if len(argv) >= 2 and argv[0] in ("github", "gitlab"):
        bad = [b for p in argv[1:] for b in (check_github if argv[0] == "github" else check_gitlab)(p)]
        ok = f"{argv[0]} recipe checks: ok ({', '.join(argv[1:])})"
    elif len(argv) >= 3 and argv[0] == "flags":
        bad, seen = check_flags(argv[1], argv[2:])
        ok = f"recipe flags: ok ({seen} flags checked)"
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for b in bad:
        print(b)
    print(ok if not bad else f"{len(bad)} finding(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
