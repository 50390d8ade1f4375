"""MyST markup turned into the plain Markdown (and a little HTML) that every notebook front end
renders: JupyterLab, classic Notebook, VS Code, Colab, GitHub.

The book's markdown cells use a few MyST features that only the book's builder understands. The
student notebooks get them rewritten once, when the edition is made:

- ``{literalinclude}`` with ``:pyobject:`` becomes a fenced code block holding that function or
  class, read from the package's source, so the "read this first" code is in the notebook;
- ``{dropdown}`` becomes ``<details><summary>``, folded until clicked;
- ``{glue:text}`name:fmt``` becomes the glued value, formatted as the book formats it (the values
  come from an executed copy of the notebook);
- ``{doc}`` becomes a link to the other notebook, admonitions a quote with a bold title,
  ``{math}`` display maths, and any other role its plain text.

:func:`raw_myst` finds what is left, for the tests.
"""

import ast
import re
import textwrap
from pathlib import Path

__all__ = ["MystError", "to_markdown", "raw_myst", "pyobject_source", "format_glue"]

# A backtick or colon fence opening a directive: ```{name} argument   or   :::{name} argument
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<arg>.*)$")
_ROLE = re.compile(r"\{(?P<name>[a-zA-Z][\w:+-]*)\}`(?P<text>[^`]*)`")
_TARGET = re.compile(r"^\s*\([\w:.-]+\)=\s*$")
_ADMONITIONS = {"note", "tip", "hint", "important", "warning", "caution", "attention", "danger",
                "error", "seealso", "admonition"}


class MystError(ValueError):
    """MyST markup the student edition cannot turn into plain Markdown; the message names it."""


def format_glue(text, fmt_spec):
    """The text/plain of a glued value formatted with ``fmt_spec``, the way myst-nb's
    ``{glue:text}`` role does it (the value read back with ``ast.literal_eval``)."""
    try:
        value = ast.literal_eval(text)
    except (SyntaxError, ValueError):
        value = text
    if not fmt_spec:
        return str(value)
    kind = fmt_spec[-1]
    if kind == "s":
        value = str(value)
    elif kind in "bcdoxX":
        value = int(value)
    elif kind in "eEfFgGn%":
        value = float(value)
    return format(value, fmt_spec)


def pyobject_source(path, qualname):
    """The source lines of the function or class ``qualname`` (``"f"`` or ``"Class.method"``)
    in the Python file ``path``, decorators included, dedented."""
    text = Path(path).read_text(encoding="utf-8")
    tree = ast.parse(text)
    node, scope = None, tree.body
    for part in qualname.split("."):
        node = next((n for n in scope if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                     and n.name == part), None)
        if node is None:
            raise MystError(f"literalinclude: {path} has no {qualname!r} (looked for {part!r})")
        scope = node.body
    start = min([node.lineno] + [d.lineno for d in node.decorator_list])
    lines = text.split("\n")[start - 1:node.end_lineno]
    return textwrap.dedent("\n".join(lines)).rstrip("\n")


def _fence_for(code, char="`"):
    longest = max((len(m) for m in re.findall(re.escape(char) + "+", code)), default=0)
    return char * max(3, longest + 1)


def _split_options(body):
    """``:key: value`` lines at the top of a directive body, and the rest."""
    options, lines = {}, body.split("\n")
    while lines and re.match(r"^:[\w-]+:", lines[0].strip()):
        key, _, value = lines.pop(0).strip()[1:].partition(":")
        options[key] = value.strip()
    return options, "\n".join(lines).strip("\n")


def _lines(code, spec):
    """``:lines:`` of Sphinx's literalinclude: ``"3-7,10"`` (1-based, ranges inclusive)."""
    keep, all_lines = [], code.split("\n")
    for part in spec.split(","):
        a, _, b = part.strip().partition("-")
        lo = int(a) if a else 1
        hi = int(b) if b else (len(all_lines) if _ else lo)
        keep.extend(all_lines[lo - 1:hi])
    return "\n".join(keep)


class _Context:
    def __init__(self, glue, base, where, titles):
        self.glue, self.base, self.where, self.titles = glue, base, where, titles


def _literalinclude(arg, options, ctx):
    path = (ctx.base / arg).resolve()
    if not path.is_file():
        raise MystError(f"{ctx.where}: literalinclude: no file {arg} (from {ctx.base})")
    if "pyobject" in options:
        code = pyobject_source(path, options["pyobject"])
    else:
        code = path.read_text(encoding="utf-8").rstrip("\n")
    if "lines" in options:
        code = _lines(code, options["lines"])
    language = options.get("language", "python" if path.suffix == ".py" else "")
    fence = _fence_for(code)
    caption = options.get("caption")
    head = f"*{caption}*\n\n" if caption else ""
    return f"{head}{fence}{language}\n{code}\n{fence}"


def _directive(name, arg, body, ctx):
    if name == "literalinclude":
        options, _ = _split_options(body)
        return _literalinclude(arg, options, ctx)
    options, content = _split_options(body)
    content = _convert(content, ctx)
    if name == "dropdown":
        summary = _roles(arg, ctx) or "Show"
        # Some renderers (jupyterlab-myst) draw no disclosure triangle: say that it opens.
        return f"<details>\n<summary>{summary} (click to show or hide)</summary>\n\n{content}\n\n</details>"
    if name in ("math",):
        return f"$$\n{content}\n$$"
    if name in ("figure", "image"):
        caption = content.strip().replace("\n", " ")
        alt = options.get("alt", caption or Path(arg).stem)
        return f"![{alt}]({arg})" + (f"\n\n*{caption}*" if caption and name == "figure" else "")
    if name in ("code", "code-block", "sourcecode"):
        fence = _fence_for(content)
        return f"{fence}{arg}\n{content}\n{fence}"
    if name in _ADMONITIONS or name.startswith("admonition"):
        title = _roles(arg, ctx) if arg else name.capitalize()
        quoted = "\n".join("> " + line if line else ">" for line in content.split("\n"))
        return f"> **{title}**\n>\n{quoted}"
    # Anything else: keep what it says, drop the markup.
    return content


def _role(match, ctx):
    name, text = match.group("name"), match.group("text")
    if name in ("glue:text", "glue", "glue:"):
        key, _, fmt = text.rpartition(":") if name == "glue:text" and ":" in text else (text, "", "")
        if key not in ctx.glue:
            raise MystError(f"{ctx.where}: no glued value {key!r} (the executed notebook did not glue it)")
        return format_glue(ctx.glue[key], fmt)
    if name in ("math", "eq"):
        return f"${text}$"
    label, target = text, None
    m = re.match(r"^(.*?)\s*<([^<>]+)>$", text, re.S)
    if m:
        label, target = m.group(1).strip(), m.group(2).strip()
    elif name == "doc":
        target, label = text, ""
    if name == "doc":
        target_path = target if target.endswith(".ipynb") else target + ".ipynb"
        label = label or ctx.titles.get(target) or ctx.titles.get(Path(target).name) or Path(target).name
        return f"[{label}]({target_path})"
    if name in ("code", "literal", "func", "class", "meth", "py:func", "py:class", "mod", "file", "command"):
        return f"`{label}`"
    if name in ("sup", "superscript"):
        return f"<sup>{label}</sup>"
    if name in ("sub", "subscript"):
        return f"<sub>{label}</sub>"
    return label


def _roles(text, ctx):
    return _ROLE.sub(lambda m: _role(m, ctx), text)


def _convert(text, ctx):
    """Directives first (their bodies recursively), roles in the remaining lines."""
    lines, out, i = text.split("\n"), [], 0
    plain_fence = None  # inside an ordinary ``` code block: leave it alone
    prose = []  # consecutive lines of text: a role may span a line break ({doc}`page\n<target>`)

    def flush():
        if prose:
            out.extend(_roles("\n".join(prose), ctx).split("\n"))
            prose.clear()

    while i < len(lines):
        line = lines[i]
        if not plain_fence and (_FENCE.match(line) or re.match(r"^[`~]{3,}\w*$", line.strip())
                                or _TARGET.match(line) or line.strip() == "+++"
                                or re.match(r"^%(\s|$)", line.strip())):
            flush()
        if plain_fence:
            out.append(line)
            if line.strip() == plain_fence:
                plain_fence = None
            i += 1
            continue
        m = _FENCE.match(line)
        if m:
            fence, indent = m.group("fence"), m.group("indent")
            j = i + 1
            while j < len(lines) and lines[j].strip() != fence:
                j += 1
            if j == len(lines):
                raise MystError(f"{ctx.where}: directive {{{m.group('name')}}} has no closing {fence}")
            body = "\n".join(ln[len(indent):] if ln.startswith(indent) else ln for ln in lines[i + 1:j])
            block = _directive(m.group("name"), m.group("arg").strip(), body, ctx)
            out.extend(indent + ln if ln else ln for ln in block.split("\n"))
            i = j + 1
            continue
        stripped = line.strip()
        if re.match(r"^`{3,}\w*$", stripped) or re.match(r"^~{3,}\w*$", stripped):
            plain_fence = re.match(r"^[`~]+", stripped).group(0)
            out.append(line)
        elif _TARGET.match(line) or stripped == "+++" or re.match(r"^%(\s|$)", stripped):
            pass  # MyST targets, block breaks and comments: nothing to show
        else:
            prose.append(line)
        i += 1
    flush()
    return "\n".join(out)


def to_markdown(text, glue=None, base=".", where="markdown", titles=None):
    """to_markdown(text, glue=None, base=".", where="markdown", titles=None) -> str

    Rewrite the MyST of one markdown cell as plain Markdown (see the module's docstring).

    Args:
        text (str): the cell's source.
        glue (dict, optional): glued name -> its text/plain, for ``{glue:text}``. Default: none.
        base (str or Path): the folder that relative ``literalinclude`` paths start from (the
            source notebook's folder). Default: ``"."``.
        where (str): how errors name the cell. Default: ``"markdown"``.
        titles (dict, optional): document name -> title, for ``{doc}`` links without a text.

    Returns:
        str: the Markdown. Raises ``MystError`` for a missing file, object or glued value.

    Example::

        >>> to_markdown("There are {glue:text}`n:,` digits.", glue={"n": "70000"})
        'There are 70,000 digits.'
    """
    return _convert(text, _Context(glue if glue is not None else {}, Path(base), where, dict(titles or {})))


def raw_myst(text):
    """The MyST roles, directives and targets left in ``text`` (outside code blocks), as a list
    of strings; empty when the text is plain Markdown."""
    found, in_code = [], None
    for line in text.split("\n"):
        stripped = line.strip()
        if in_code:
            if stripped == in_code:
                in_code = None
            continue
        m = _FENCE.match(line)
        if m:
            found.append(stripped)
            continue
        if re.match(r"^`{3,}\w*$", stripped):
            in_code = re.match(r"^`+", stripped).group(0)
            continue
        if _TARGET.match(line) or re.match(r"^:{3,}\s*$", stripped):
            found.append(stripped)
        # Inline code spans may show a role as an example; blank them before looking.
        visible = re.sub(r"(?<![}\w])`[^`]*`", "", line)
        found.extend(m.group(0) for m in _ROLE.finditer(visible))
        # A role whose text goes on past the line's end (left raw, it shows as "{doc}`page").
        found.extend(m.group(0) for m in re.finditer(r"\{[a-zA-Z][\w:+-]*\}`(?=[^`]*$)", visible))
    return found
