"""The regimen's interaction subgraph in Graphviz DOT, from a CheckRegimenResponse."""

from __future__ import annotations

from regimenguard.v1 import regimen_checker_pb2 as pb

_EDGE_COLOURS = {
    pb.SEVERITY_INFO: "steelblue",
    pb.SEVERITY_WARNING: "orange",
    pb.SEVERITY_CRITICAL: "red",
}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def regimen_dot(response: pb.CheckRegimenResponse) -> str:
    """Ingredients (boxes), the classes and conditions that interactions name (ellipses),
    membership (dashed) and the interaction edges that fired (coloured by severity)."""
    summary = response.summary
    ingredients: dict[str, set[str]] = {}
    for order in summary.orders:
        for ingredient in order.ingredients:
            ingredients.setdefault(ingredient.name, set()).update(ingredient.classes)
    lines = ["graph regimen {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for name in sorted(ingredients):
        lines.append(
            f"  {_quote('drug:' + name)} [label={_quote(name)}, shape=box, style=filled, fillcolor=lightyellow];"
        )
    ends: set[str] = set()
    for fired in summary.interactions:
        ends.update((fired.node_a, fired.node_b))
    for node in sorted(ends):
        kind, _, name = node.partition(":")
        if kind == "class":
            lines.append(
                f"  {_quote(node)} [label={_quote(name.replace('_', ' '))}, shape=ellipse];"
            )
            for ingredient, classes in sorted(ingredients.items()):
                if name in classes:
                    lines.append(
                        f"  {_quote('drug:' + ingredient)} -- {_quote(node)} [style=dashed, color=gray];"
                    )
        elif kind == "condition":
            lines.append(
                f"  {_quote(node)} [label={_quote(name.replace('_', ' '))}, shape=diamond];"
            )
    for fired in summary.interactions:
        colour = _EDGE_COLOURS.get(fired.severity, "black")
        label = f"{fired.rule_id}"
        lines.append(
            f"  {_quote(fired.node_a)} -- {_quote(fired.node_b)} [label={_quote(label)}, color={colour}, penwidth=2];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"
