#!/usr/bin/env python3
"""The JSON Schemas against an independent validator (python3-jsonschema, draft 2020-12).

  schema_check.py shipped SRC TXLAB     both schemas are valid draft 2020-12 schemas; `txlab schema`
                                        prints the shipped files byte for byte; every shipped
                                        scenario and conformance/configs/*.yaml (when present)
                                        validates; conform-config lists exactly conform's flags;
                                        files the loader rejects for an unknown key or value are
                                        rejected by the schema too (so it is not vacuous)
  schema_check.py accepted SRC TXLAB OUT  every file `txlab lint` accepts (exit 0) validates: the
                                        fuzz corpus and regressions, tests/data/*.yaml, and
                                        seeded mutations of the shipped scenarios

A YAML file is read three ways, and each must validate: YAML 1.1 as PyYAML resolves it (yes/no
are booleans, 010 is octal), YAML 1.2's core schema (yes is a string; what editors use), and
every scalar a string (as if quoted: yaml-cpp reads every scalar as text and converts it where
it is used, so the loader accepts `repeat: "5"`). Mapping keys are the text yaml-cpp sees (a
null key is "null"); merge keys (<<) and timestamps are not resolved (yaml-cpp has neither).
"""
import glob
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

import jsonschema
import yaml
from jsonschema import Draft202012Validator

# --- YAML -> JSON, three ways ------------------------------------------------------------

NULLS = {"", "~", "null", "Null", "NULL"}
BOOL12 = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
INT12 = re.compile(r"^[-+]?[0-9]+$")
FLOAT12 = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


def resolve11(node):
    """PyYAML's YAML 1.1 resolution of a plain scalar (but timestamps stay text)."""
    tag = yaml.resolver.Resolver().resolve(yaml.ScalarNode, node.value, (True, False))
    construct = yaml.SafeLoader.yaml_constructors.get(tag)
    if tag in ("tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp") or construct is None:
        return node.value
    return construct(yaml.SafeLoader(""), yaml.ScalarNode(tag, node.value))


def resolve12(text):
    if text in NULLS:
        return None
    if text in BOOL12:
        return BOOL12[text]
    if INT12.match(text):
        return int(text)
    if re.match(r"^0o[0-7]+$", text):
        return int(text[2:], 8)
    if re.match(r"^0x[0-9a-fA-F]+$", text):
        return int(text[2:], 16)
    if FLOAT12.match(text):
        return float(text)
    if re.match(r"^[-+]?\.(inf|Inf|INF)$", text):
        return float("-inf") if text.startswith("-") else float("inf")
    if text in (".nan", ".NaN", ".NAN"):
        return float("nan")
    return text


def to_json(node, mode):
    if isinstance(node, yaml.MappingNode):
        out = {}
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else yaml.serialize(k)
            if isinstance(k, yaml.ScalarNode) and k.style is None and key in NULLS:
                key = "null"  # yaml-cpp: a null key reads as "null"
            out[key] = to_json(v, mode)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [to_json(v, mode) for v in node.value]
    text = node.value
    implicit = yaml.resolver.Resolver().resolve(yaml.ScalarNode, text, (True, False))
    if node.style is not None or (node.tag == "tag:yaml.org,2002:str" and implicit != node.tag):
        return text  # quoted, block or !!str: a string in every reading
    if mode == "strings":
        return None if text in NULLS else text
    if mode == "yaml12":
        return resolve12(text)
    return resolve11(node)


def readings(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        root = yaml.compose(data.decode("utf-8"), Loader=yaml.SafeLoader)
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        return None, str(e)
    return {m: to_json(root, m) for m in ("yaml11", "yaml12", "strings")}, None


def validator(path):
    with open(path) as f:
        schema = json.load(f)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def errors_of(v, path, modes=("yaml11", "yaml12", "strings")):
    docs, err = readings(path)
    if docs is None:
        return ["PyYAML cannot read it: " + err]
    out = []
    for mode in modes:
        doc = docs[mode]
        for e in v.iter_errors(doc):
            out.append("%s: %s at /%s" % (mode, e.message[:200], "/".join(map(str, e.absolute_path))))
    return out


def lint(txlab, path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TXLAB_")}
    return subprocess.run([txlab, "lint", path], capture_output=True, text=True, env=env)


# --- shipped ------------------------------------------------------------------------------

def shipped(src, txlab):
    failures = []
    scenario_schema = os.path.join(src, "sim/scenario.schema.json")
    conform_schema = os.path.join(src, "conformance/conform-config.schema.json")
    sv, cv = validator(scenario_schema), validator(conform_schema)
    print("both schemas are valid draft 2020-12 schemas")
    for name, path in (("scenario", scenario_schema), ("conform-config", conform_schema)):
        out = subprocess.run([txlab, "schema", name], capture_output=True).stdout
        with open(path, "rb") as f:
            if out != f.read():
                failures.append("`txlab schema %s` differs from %s (regenerate: txlab schema %s > %s)"
                                % (name, path, name, os.path.relpath(path, src)))
    bad = subprocess.run([txlab, "schema", "nonsense"], capture_output=True, text=True)
    if bad.returncode != 2 or "scenario, conform-config" not in bad.stderr:
        failures.append("txlab schema nonsense: exit %d, %r" % (bad.returncode, bad.stderr))
    files = sorted(glob.glob(os.path.join(src, "scenarios/*.yaml")) +
                   glob.glob(os.path.join(src, "scenarios/*/*.yaml")))
    for f in files:
        with open(f) as fh:
            first = fh.readline().rstrip("\n")
        rel = os.path.relpath(scenario_schema, os.path.dirname(f))
        if first != "# yaml-language-server: $schema=" + rel:
            failures.append("%s: first line is not the modeline for %s" % (f, rel))
        failures += ["%s: %s" % (f, e) for e in errors_of(sv, f)]
    print("%d shipped scenarios checked" % len(files))
    # A conform config is typed (timeout-ms: 5000 is a number): read as YAML 1.1 and 1.2 only.
    configs = sorted(glob.glob(os.path.join(src, "conformance/configs/*.yaml")))
    for f in configs:
        failures += ["%s: %s" % (f, e) for e in errors_of(cv, f, ("yaml11", "yaml12"))]
    print("%d conform configs checked" % len(configs))
    # conform-config: exactly the flags of `txlab conform --help`, but --config, and description.
    usage = subprocess.run([txlab, "conform", "--help"], capture_output=True, text=True).stdout
    flags = set(re.findall(r"^        --([a-z0-9-]+)", usage, re.M)) - {"config"}
    keys = set(cv.schema["properties"]) - {"description"}
    if flags != keys:
        failures.append("conform-config keys differ from conform's flags: only flags %s, only keys %s"
                        % (sorted(flags - keys), sorted(keys - flags)))
    failures += not_vacuous(src, txlab, sv, cv)
    return failures


def not_vacuous(src, txlab, sv, cv):
    """Files the loader rejects for an unknown key or value; the schema must reject them too."""
    failures = []
    base = open(os.path.join(src, "scenarios/direct.yaml")).read()
    edits = [("kind: gateway", "kind: gatway"), ("topology: direct", "topology: star"),
             ("    trust: [as-c]\n", "    trsut: [as-c]\n"), ("scenario: direct", "scenari: direct"),
             ("alg: ES256", "alg: HS256"), ("expect: { status: 401,", "expect: { body: x, status: 401,"),
             ("expect: { status: 401,", "expect: { status: 700,")]
    out_dir = tempfile.mkdtemp(prefix="schema-rejected-")
    n = 0
    for old, new in edits:
        if old not in base:
            failures.append("not_vacuous: %r is not in direct.yaml" % old)
            continue
        path = os.path.join(out_dir, "schema-rejected-%d.yaml" % n)
        n += 1
        with open(path, "w") as f:
            f.write(base.replace(old, new, 1))
        r = lint(txlab, path)
        if r.returncode != 2:
            failures.append("not_vacuous: the loader accepts %r -> %r" % (old, new))
        elif not errors_of(sv, path):
            failures.append("the schema accepts %r -> %r, which the loader rejects: %s"
                            % (old, new, r.stderr.strip()))
    if not list(cv.iter_errors({"target-url": "http://x", "no-such-flag": True})):
        failures.append("the conform-config schema accepts an unknown key")
    if not list(cv.iter_errors({"timeout-ms": "soon"})):
        failures.append("the conform-config schema accepts a string for an integer flag")
    shutil.rmtree(out_dir, ignore_errors=True)
    print("%d rejected files checked against the schema" % n)
    return failures


# --- accepted -----------------------------------------------------------------------------

# Values a mutation puts in place of a scalar: the forms yaml-cpp and the loader may accept.
FORMS = ['"%s"', "'%s'", "[%s]", "yes", "no", "on", "Off", "y", "N", "TRUE", "0x10", "010", "+5",
         "1.5", "250ms", "2m", "1e-1", ".5", "0", "5", "-3", "100000", "${TXLAB_SCHEMA_UNSET}",
         "http://${TXLAB_SCHEMA_UNSET}/x", "~", '""', "'>= 0.5'", '"== 0"', "1:30", "2020-01-01",
         "!!str 5", "'5 '", ".inf", ".nan", "%s-x", "[]", "{}", "/", "[%s, %s]"]
KV = re.compile(r"^(\s*(?:- )?)([A-Za-z_][A-Za-z0-9_-]*):( +)([^#{}\[\]\n]+?)(\s*(#.*)?)$")


def schema_keys(node, out):
    """Every property name in the schema: keys a mutation may add."""
    if isinstance(node, dict):
        out.update(node.get("properties", {}) if isinstance(node.get("properties"), dict) else {})
        for v in node.values():
            schema_keys(v, out)
    elif isinstance(node, list):
        for v in node:
            schema_keys(v, out)
    return out


def mutate(text, rng, keys):
    """1-3 edits of `key: value` lines: another form of the value, the line removed, or a key
    added beside it (with the same value, or another form)."""
    lines = text.split("\n")
    for _ in range(rng.choice([1, 1, 2, 3])):
        idx = [i for i, l in enumerate(lines) if KV.match(l)]
        i = rng.choice(idx)
        m = KV.match(lines[i])
        value = rng.choice(FORMS).replace("%s", m.group(4).strip())
        edit = rng.random()
        if edit < 0.7:
            lines[i] = "%s%s:%s%s%s" % (m.group(1), m.group(2), m.group(3), value, m.group(5))
        elif edit < 0.85 and not m.group(1).endswith("- "):
            del lines[i]
        else:
            indent = " " * len(m.group(1))
            value = m.group(4) if rng.random() < 0.5 else value
            lines.insert(i + 1, "%s%s: %s" % (indent, rng.choice(keys), value))
    return "\n".join(lines)


def accepted(src, txlab, out):
    sv = validator(os.path.join(src, "sim/scenario.schema.json"))
    inputs = []
    for d in ("tests/fuzz/corpus/scenario", "tests/fuzz/regressions/scenario"):
        inputs += sorted(glob.glob(os.path.join(src, d, "*")))
    inputs += sorted(glob.glob(os.path.join(src, "tests/data/*.yaml")))
    shipped_files = sorted(glob.glob(os.path.join(src, "scenarios/*.yaml")) +
                           glob.glob(os.path.join(src, "scenarios/*/*.yaml")))
    os.makedirs(out, exist_ok=True)
    rng = random.Random(int(os.environ.get("SCHEMA_SEED", "25")))
    keys = sorted(schema_keys(sv.schema, set()))
    count = int(os.environ.get("SCHEMA_MUTATIONS", "600"))
    for n in range(count):
        base = rng.choice(shipped_files)
        path = os.path.join(out, "m%04d-%s" % (n, os.path.basename(base)))
        with open(path, "w") as f:
            f.write(mutate(open(base).read(), rng, keys))
        inputs.append(path)
    # The same schema as a naive one would be (booleans only true/false, integers never
    # strings, one value never for a list): some accepted file must fail it, or this check
    # could not catch a schema that rejects what the loader accepts.
    naive = json.loads(json.dumps(sv.schema))
    naive["$defs"]["boolean"] = {"type": "boolean"}
    naive["$defs"]["integerText"] = False
    naive["$defs"]["texts"] = {"type": "array", "items": {"$ref": "#/$defs/text"}}
    naive = Draft202012Validator(naive)
    failures, taken, rejected, schema_too, naive_fails = [], 0, 0, 0, 0
    for f in inputs:
        if os.path.isdir(f):
            continue
        r = lint(txlab, f)
        if r.returncode != 0:
            rejected += 1
            schema_too += 1 if errors_of(sv, f) else 0
            continue
        taken += 1
        errs = errors_of(sv, f)
        if errs:
            failures.append("%s: the loader accepts it, the schema does not: %s" % (f, errs[:3]))
        naive_fails += 1 if errors_of(naive, f) else 0
    print("%d files: %d accepted by txlab lint and checked, %d rejected by it (%d of them by the "
          "schema too; the rest break rules it leaves to the loader: references, ranges of text)"
          % (taken + rejected, taken, rejected, schema_too))
    print("%d of the accepted files fail a naive schema (booleans, integers, lists only one way)"
          % naive_fails)
    if naive_fails == 0:
        failures.append("no accepted file fails the naive schema: the inputs prove little")
    if taken < 50:
        failures.append("only %d accepted files: the check would prove little" % taken)
    return failures


def main():
    mode, src, txlab = sys.argv[1], sys.argv[2], sys.argv[3]
    failures = shipped(src, txlab) if mode == "shipped" else accepted(src, txlab, sys.argv[4])
    for f in failures[:40]:
        print("FAIL", f)
    if failures:
        print("schema_check %s: %d failures" % (mode, len(failures)))
        return 1
    print("schema_check %s: ok" % mode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
