"""Writes the boot scripts of a CloudFormation template's launch templates as plain bash, for shellcheck.

    .venv/bin/python scripts/tests/user-data.py TEMPLATE OUTDIR

Each AWS::EC2::LaunchTemplate's UserData is an Fn::Base64 of an Fn::Sub: a string, or a [string, variables]
list. CloudFormation substitutes ${Name} and ${AWS::Region} before the instance sees the script, so each becomes
a placeholder word (CFN_Name, CFN_AWS_Region) that reads as a plain value to shellcheck; ${!Literal} is
CloudFormation's escape for a literal ${Literal} and is written as that. A variable whose value is an
Fn::FindInMap of the template's Mappings (the boot steps both launch templates share) is replaced by that text,
as CloudFormation inserts it. Writes OUTDIR/RESOURCE.sh for each, and OUTDIR/RESOURCE.NAME.sh for each script the
boot script writes from a quoted here-document (cat >/path/NAME <<'EOF' with a #! line first: the text is the
script as written, since a quoted here-document expands nothing), each with PATH.lines beside it: line N holds
the template line that line N of the script comes from. Prints the paths, one a line. Exits 1, saying why, when a
launch template has no such UserData or names a mapping that does not exist.
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

    def lines(self):
        """The template line of each of the text's lines (a literal block: one template line each)."""
        return [self.first_line + i for i in range(self.count("\n") + 1)]


TemplateLoader.add_multi_constructor("!", _intrinsic)
TemplateLoader.add_constructor("tag:yaml.org,2002:str", _string_with_line)


def boot_script(resource_name, resource, mappings):
    """The script as the instance gets it, and the template line of each of its lines."""
    user_data = resource.get("Properties", {}).get("LaunchTemplateData", {}).get("UserData")
    sub = user_data.get("Fn::Base64") if isinstance(user_data, dict) else None
    sub = sub.get("Fn::Sub") if isinstance(sub, dict) else None
    variables = {}
    if isinstance(sub, list) and len(sub) == 2:
        sub, variables = sub
    if not isinstance(sub, LineString):
        sys.exit(f"user-data.py: {resource_name}: UserData is not Fn::Base64 of an Fn::Sub string or [string, vars]")
    inserted = {}
    for name, value in variables.items():
        if isinstance(value, dict) and "Fn::FindInMap" in value:
            keys = value["Fn::FindInMap"]
            text = mappings
            for key in keys:
                text = text.get(key) if isinstance(text, dict) else None
            if not isinstance(text, LineString):
                sys.exit(f"user-data.py: {resource_name}: ${{{name}}}: no text at Mappings {'/'.join(keys)}")
            inserted[name] = text

    script, lines = [], []
    for text, line in zip(sub.split("\n"), sub.lines()):
        done = 0
        for match in SUBSTITUTION.finditer(text):
            literal, name = match.group(1), match.group(2)
            script.append(text[done : match.start()])
            done = match.end()
            if literal:
                script.append("${" + name + "}")
            elif name in inserted:
                # The mapping's lines, each from its own template line; the rest of this line follows them.
                block = inserted[name]
                script.append(block)
                lines.extend(block.lines()[: block.count("\n")])
            else:
                script.append("CFN_" + re.sub(r"[^A-Za-z0-9]+", "_", name))
        script.append(text[done:] + "\n")
        lines.append(line)
    return "".join(script).removesuffix("\n"), lines


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
    mappings = template.get("Mappings", {})
    for name, resource in launch_templates.items():
        script, lines = boot_script(name, resource, mappings)
        write(Path(out_dir) / f"{name}.sh", script, lines)
        for embedded in EMBEDDED_SCRIPT.finditer(script):
            first = script.count("\n", 0, embedded.start(3))
            body = embedded.group(3)
            write(Path(out_dir) / f"{name}.{embedded.group(1)}.sh", body, lines[first : first + body.count("\n")])


def write(path, script, lines):
    path.write_text(script)
    Path(f"{path}.lines").write_text("".join(f"{line}\n" for line in lines))
    print(path)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: user-data.py TEMPLATE OUTDIR")
    main(sys.argv[1], sys.argv[2])
