"""Render a :class:`reports.tables.Table` as Markdown, LaTeX or HTML.

Emphasis: ``best`` is bold and ``second`` underlined in every format (Markdown has no underline, so
it uses ``<u>``, which GitHub and most renderers display). Footnotes go under the table.
"""

from __future__ import annotations

import html

from reports.tables import Cell, Table


def markdown(table: Table) -> str:
    """GitHub-flavoured Markdown: a ``####`` title, the table, then its footnotes."""
    def md(cell: Cell) -> str:
        text = cell.text.replace("|", "\\|")
        if not text:
            return text
        return f"**{text}**" if cell.mark == "best" else f"<u>{text}</u>" if cell.mark == "second" else text

    header = [table.corner, *table.columns]
    lines = [f"#### {table.title}", "", "| " + " | ".join(h.replace("|", "\\|") for h in header) + " |",
             "|" + "|".join([":--"] + ["--:"] * len(table.columns)) + "|"]
    lines += ["| " + " | ".join([name.replace("|", "\\|"), *map(md, cells)]) + " |" for name, cells in table.rows]
    if table.notes:
        lines += [""] + [f"<sub>{note}</sub>  " for note in table.notes]
    return "\n".join(lines)


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
        "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "±": r"$\pm$", "†": r"$^\dagger$",
        "Δ": r"$\Delta$", "↓": r"$\downarrow$", "≠": r"$\neq$", "–": "--", "—": "---", "<": r"$<$", ">": r"$>$"}


def tex_escape(text: str) -> str:
    """Escape LaTeX's special characters and map the few symbols the tables use."""
    return "".join(_TEX.get(ch, ch) for ch in text)


def latex(table: Table) -> str:
    """A ``table`` float with a booktabs ``tabular``; needs ``\\usepackage{booktabs}``."""
    def tex(cell: Cell) -> str:
        text = tex_escape(cell.text)
        return rf"\textbf{{{text}}}" if cell.mark == "best" else rf"\underline{{{text}}}" if cell.mark == "second" else text

    lines = [r"\begin{table}[ht]", r"\centering", rf"\caption{{{tex_escape(table.title)}}}",
             rf"\label{{tab:{table.key}}}", r"\begin{tabular}{l" + "r" * len(table.columns) + "}", r"\toprule",
             " & ".join(tex_escape(h) for h in [table.corner, *table.columns]) + r" \\", r"\midrule"]
    lines += [" & ".join([tex_escape(name), *map(tex, cells)]) + r" \\" for name, cells in table.rows]
    lines += [r"\bottomrule", r"\end{tabular}"]
    lines += [rf"\par\footnotesize {tex_escape(note)}" for note in table.notes]
    lines.append(r"\end{table}")
    return "\n".join(lines)


def html_table(table: Table) -> str:
    """An HTML ``<table>`` with a caption and its footnotes; ``<strong>`` best, ``<u>`` second."""
    def cell(c: Cell) -> str:
        text = html.escape(c.text)
        inner = f"<strong>{text}</strong>" if c.mark == "best" else f"<u>{text}</u>" if c.mark == "second" else text
        return f"<td>{inner}</td>"

    head = "".join(f"<th>{html.escape(h)}</th>" for h in [table.corner, *table.columns])
    body = "\n".join(f"<tr><th scope=\"row\">{html.escape(name)}</th>{''.join(map(cell, cells))}</tr>"
                     for name, cells in table.rows)
    notes = "".join(f"<p class=\"note\">{html.escape(n)}</p>" for n in table.notes)
    return (f"<table id=\"{html.escape(table.key)}\"><caption>{html.escape(table.title)}</caption>"
            f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>{notes}")
