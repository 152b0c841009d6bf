"""Writes the boot scripts of a CloudFormation template's launch templates as plain bash, for shellcheck.

    .venv/bin/python scripts/tests/user-data.py TEMPLATE OUTDIR

Each AWS::EC2::LaunchTemplate's UserData is an Fn::Base64 of an Fn::Sub: a string, or a [string, variables]
list. CloudFormation substitutes ${Name} and ${AWS::Region} before the instance sees the script, so each becomes
a placeholder word (CFN_Name, CFN_AWS_Region) that reads as a plain value to shellcheck; ${!Literal} is
CloudFormation's escape for a literal ${Literal} and is written as that. Writes OUTDIR/RESOURCE.sh for each, and
OUTDIR/RESOURCE.NAME.sh for each script the boot script writes from a quoted here-document (cat >/path/NAME
<<'EOF' with a #! line first: the text is the script as written, since a quoted here-document expands nothing), and
prints, one a line, "PATH FIRST_LINE": the template line the script's first line stands on (shellcheck's line N
is the template's line FIRST_LINE + N - 1). Exits 1, saying why, when a launch template has no such UserData.
"""

import re
import sys
from pathlib import Path

import yaml

# ${Name}, ${AWS::Region}, ${Resource.Attribute}; ${!Literal} stays literal.
SUBSTITUTION = re.compile(r"\$\{(!?)([^}]*)\}")
# A script written by the boot script: `cat >/path/NAME <<'DELIM'`, a #! line, the body, DELIM.
EMBEDDED_SCRIPT = re.compile(r"^.*>\s*\S*?([\w.-]+)\s+<<'(\w+)'\n(#!.*\n(?:.*\n)*?)\2\n", re.M)


class TemplateLoader(yaml.SafeLoader):
    """Reads CloudFormation's short forms (!Sub, !Ref, !GetAtt, ...) as their long forms, keeping line marks."""


def _intrinsic(loader, tag_suffix, node):
    name = "Ref" if tag_suffix == "Ref" else "Fn::" + tag_suffix
    if isinstance(node, yaml.ScalarNode):
        value = _string_with_line(loader, node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


def _string_with_line(loader, node):
    return LineString(loader.construct_scalar(node), node)


class LineString(str):
    """A YAML string that remembers the template line its text starts on (a block scalar: the line after |)."""

    def __new__(cls, value, node):
        text = super().__new__(cls, value)
        block = node.style in ("|", ">")
        text.first_line = node.start_mark.line + (2 if block else 1)
        return text


TemplateLoader.add_multi_constructor("!", _intrinsic)
TemplateLoader.add_constructor("tag:yaml.org,2002:str", _string_with_line)


def placeholder(match):
    literal, name = match.group(1), match.group(2)
    if literal:
        return "${" + name + "}"
    return "CFN_" + re.sub(r"[^A-Za-z0-9]+", "_", name)


def boot_script(resource_name, resource):
    user_data = resource.get("Properties", {}).get("LaunchTemplateData", {}).get("UserData")
    sub = user_data.get("Fn::Base64") if isinstance(user_data, dict) else None
    sub = sub.get("Fn::Sub") if isinstance(sub, dict) else None
    if isinstance(sub, list) and len(sub) == 2:
        sub = sub[0]
    if not isinstance(sub, LineString):
        sys.exit(f"user-data.py: {resource_name}: UserData is not Fn::Base64 of an Fn::Sub string or [string, vars]")
    return SUBSTITUTION.sub(placeholder, sub), sub.first_line


def main(template_path, out_dir):
    template = yaml.load(Path(template_path).read_text(), Loader=TemplateLoader)
    launch_templates = {
        name: resource
        for name, resource in template.get("Resources", {}).items()
        if resource.get("Type") == "AWS::EC2::LaunchTemplate"
    }
    if not launch_templates:
        sys.exit(f"user-data.py: no AWS::EC2::LaunchTemplate in {template_path}")
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    for name, resource in launch_templates.items():
        script, first_line = boot_script(name, resource)
        write(Path(out_dir) / f"{name}.sh", script, first_line)
        for embedded in EMBEDDED_SCRIPT.finditer(script):
            body_line = first_line + script.count("\n", 0, embedded.start(3))
            write(Path(out_dir) / f"{name}.{embedded.group(1)}.sh", embedded.group(3), body_line)


def write(path, script, first_line):
    path.write_text(script)
    print(path, first_line)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: user-data.py TEMPLATE OUTDIR")
    main(sys.argv[1], sys.argv[2])
