"""Reshaping long ``AND`` / ``OR`` chains into balanced trees.

sqlglot parses ``a OR b OR c ...`` as a left-deep chain, so a chain of n terms is n nodes deep and
every walk from a column up to its SELECT costs O(n): checking the whole chain would take O(n^2).
AND and OR are associative, so regrouping a chain changes neither its meaning nor the left-to-right
order of its terms; a balanced chain is only O(log n) deep.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

_CONNECTORS = (exp.And, exp.Or)


def balance_connectors(tree: exp.Expr) -> None:
    """Regroup every AND / OR chain in ``tree`` in place into a balanced tree of the same nodes."""
    roots = [node for node in tree.find_all(*_CONNECTORS) if type(node.parent) is not type(node)]
    for root in roots:
        joints, terms = _flatten(root)
        if len(terms) > 2:
            _build(iter(joints), terms, 0, len(terms))


def _flatten(root: exp.Expr) -> tuple[list[exp.Expr], list[exp.Expr]]:
    """The chain's connector nodes (``root`` first) and its terms, left to right."""
    joints: list[exp.Expr] = []
    terms: list[exp.Expr] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if type(node) is type(root):
            joints.append(node)
            stack.extend((node.expression, node.this))
        else:
            terms.append(node)
    return joints, terms


def _build(joints: Iterator[exp.Expr], terms: list[exp.Expr], start: int, end: int) -> exp.Expr:
    """Join ``terms[start:end]`` under connectors taken from ``joints`` (the first one is the top)."""
    if end - start == 1:
        return terms[start]
    joint = next(joints)
    middle = (start + end) // 2
    joint.set("this", _build(joints, terms, start, middle))
    joint.set("expression", _build(joints, terms, middle, end))
    return joint
