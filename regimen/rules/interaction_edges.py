"""Findings from interaction-graph edges: one mechanism for every pairwise rule.

NSAID + acetaminophen, benzodiazepine + opioid, MAOI + serotonergic agent, tizanidine + a
CYP1A2 inhibitor, drug + patient condition: each is an ``interacts`` edge in the data; the
facts already hold the edges that fired. This module turns them into findings:

- each pair (two drugs, or a drug and a condition) is reported once, under the most severe
  edge of the rule that joins it (an opioid with carisoprodol is the carisoprodol WARNING, not
  also the muscle-relaxant INFO);
- edges of the same severity over the same drugs become one finding (an NSAID with a history of
  GI bleeding and renal impairment);
- a finding whose drugs are all covered by a more severe finding of the same rule is dropped
  (no INFO "older adult on an NSAID" beside a WARNING for the same NSAID).

What an edge says that no request changes (its node labels, rationale, recommendation, section,
code) is worded once at start-up (regimenguard.regimen.edge_wording, by the edge's position); a
request only joins its drug names into it. The sides of a hit are sorted without repeats (the
facts' members), and an ingredient name has no ``:`` (start-up refuses one), so a pair's entry
with a ``:`` is the edge's condition node.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from regimenguard.interactions.knowledge_base import RuleSpec
from regimenguard.interactions.severity import Severity
from regimenguard.regimen.edge_wording import EdgeWording
from regimenguard.regimen.facts import EdgeHit, RegimenFacts
from regimenguard.regimen.model import Finding
from regimenguard.regimen.rules.base import join, new_finding

Pair = tuple[str, str]
# A rule's own recommendation for one fired edge and its pairs (default: the edge's).
Advice = Callable[[EdgeHit, list[Pair]], str]
# A rule's own words for one finding: its drugs, message and recommendation -> the message and
# recommendation it reports
Reword = Callable[[tuple[str, ...], str, str], tuple[str, str]]
# A rule's own words for one finding in place of the edge's: its drugs -> the message and
# recommendation it reports (the edge's are then not worded at all)
Words = Callable[[tuple[str, ...]], tuple[str, str]]
# One hit with the pairs it reports and the drugs of each side among them
Won = tuple[EdgeHit, list[Pair], tuple[str, ...], tuple[str, ...]]


def edge_findings(
    facts: RegimenFacts,
    spec: RuleSpec,
    advice: Advice | None = None,
    reword: Reword | None = None,
    words: Words | None = None,
) -> list[Finding]:
    """Every finding of this rule's edges that fired for the regimen.

    ``advice`` gives a rule's own recommendation for a hit and its pairs; ``reword`` a rule's
    own message and recommendation for each finding (built once, with them); ``words`` them
    from the finding's drugs alone, in place of the edge's (which are then not worded).
    """
    hits = facts.edge_hits_by_rule.get(spec.rule_id)
    if not hits:
        return []
    wordings = facts.knowledge.compiled.edge_wordings
    if words is not None:
        if len(hits) == 1:  # the common case: the edge's words are not worded at all
            return _one_hit(hits[0], wordings[hits[0].position], spec, None, None, words)
        reword = _in_place_of(words)
    if len(hits) == 1:
        return _one_hit(hits[0], wordings[hits[0].position], spec, advice, reword)
    return _several_hits(hits, wordings, spec, advice, reword)


def _in_place_of(words: Words) -> Reword:
    """``words`` as a ``Reword``: the edge's message and recommendation set aside."""
    return lambda drugs, message, recommendation: words(drugs)


def _one_hit(
    hit: EdgeHit,
    wording: EdgeWording,
    spec: RuleSpec,
    advice: Advice | None,
    reword: Reword | None = None,
    words: Words | None = None,
) -> list[Finding]:
    """The common case: one edge of the rule fired, and every pair it makes is its own
    (``words``: the rule's own words in place of the edge's)."""
    side_a, side_b = hit.drugs_a, hit.drugs_b
    if side_a and side_b:
        if len(side_a) == 1 and side_a == side_b:
            return []  # one drug alone on both sides makes no pair
        if len(side_a) == 1 and len(side_b) == 1:
            a, b = side_a[0], side_b[0]
            drugs: tuple[str, ...] = (a, b) if a < b else (b, a)
        else:
            drugs = tuple(sorted({*side_a, *side_b}))
    elif side_a or side_b:  # a drug and a patient condition
        drugs = side_a or side_b
    else:
        return []
    witnesses = hit.witnesses
    if witnesses:
        drugs = _with_witnesses(drugs, witnesses)
    if words is not None:
        message, recommendation = words(drugs)
    else:
        message = _sentence(wording, hit, side_a, side_b)
        if hit.presence:
            stated = _presence(wording, hit)
            message = " ".join([message, *(dict.fromkeys(stated) if len(stated) > 1 else stated)])
        recommendation = wording.recommendation
        if advice:
            recommendation = advice(hit, list(dict.fromkeys(_pairs(hit)))) or recommendation
        if reword:
            message, recommendation = reword(drugs, message, recommendation)
    return [
        new_finding(
            Finding,
            (
                spec.rule_id,
                wording.severity,
                drugs,
                message,
                recommendation,
                wording.section or spec.guideline_section,
                wording.ncpdp_reason_code or spec.ncpdp_reason_code,
                False,  # acknowledged
            ),
        )
    ]


def _several_hits(
    hits: tuple[EdgeHit, ...],
    wordings: tuple[EdgeWording, ...],
    spec: RuleSpec,
    advice: Advice | None,
    reword: Reword | None = None,
) -> list[Finding]:
    grouped = _grouped_single(hits, advice)
    if grouped is None:
        grouped = _grouped(hits, advice)
    if len(grouped) > 1:
        top = max(grouped)[0]  # the keys start with their severity
        if min(grouped)[0] != top:
            grouped = _not_outranked(grouped, top)
    return [
        _finding(spec, drugs, group, wordings, advice, reword)
        for (_, drugs), group in grouped.items()
    ]


Groups = dict[tuple[Severity, tuple[str, ...]], list[Won]]


def _grouped_single(hits: tuple[EdgeHit, ...], advice: Advice | None) -> Groups | None:
    """``_grouped`` for hits whose every side has at most one drug (the common case: an NSAID
    with several patient conditions and one drug pair), each hit making one pair; None when a
    side has several drugs (or in the rare case below).

    Each pair is reported by the most severe hit that makes it, the first of equals; that hit
    reports its whole sides, the others nothing. A hit that outranks an earlier one takes that
    one's place: out of its group, and the group out of the findings when it is left empty (a
    group keeps its place by its first hit; when that one is outranked and others remain, the
    general ``_grouped`` decides).
    """
    grouped: Groups = {}
    winners: dict[Pair, Won] = {}  # pair -> the entry of the hit that reports it
    for hit in hits:
        side_a, side_b = hit.drugs_a, hit.drugs_b
        if side_a:
            if len(side_a) > 1:
                return None
            if side_b:
                if len(side_b) > 1:
                    return None
                a, b = side_a[0], side_b[0]
                if a == b:
                    continue
                pair = (a, b) if a < b else (b, a)
                drugs: tuple[str, ...] = pair
            else:
                drugs, pair = side_a, (side_a[0], hit.edge.node_b)
        elif side_b:
            if len(side_b) > 1:
                return None
            drugs, pair = side_b, (side_b[0], hit.edge.node_a)
        else:
            continue
        severity = hit.edge.severity
        item = (hit, [pair] if advice else [], side_a, side_b)
        won = winners.get(pair)
        if won is not None:  # the same pair from an earlier hit (with the same drugs)
            won_severity = won[0].edge.severity
            if severity <= won_severity:
                continue
            won_key = (won_severity, drugs)
            won_group = grouped[won_key]
            if won_group[0] is won:
                if len(won_group) > 1:
                    return None
                del grouped[won_key]
            else:
                for position, entry in enumerate(won_group):
                    if entry is won:
                        del won_group[position]
                        break
        winners[pair] = item
        key = (severity, drugs)
        group = grouped.get(key)  # _add, inline
        if group is None:
            grouped[key] = [item]
        else:
            group.append(item)
    return grouped


def _grouped(hits: tuple[EdgeHit, ...], advice: Advice | None) -> Groups:
    """Each hit with the pairs it reports and its sides' drugs among them, grouped by severity
    and drug set (the drugs of its pairs: a condition is no drug)."""
    if advice is None:
        grouped = _grouped_common_side(hits)
        if grouped is not None:
            return grouped
    return _grouped_by_pairs(hits, advice)


def _grouped_by_pairs(hits: tuple[EdgeHit, ...], advice: Advice | None) -> Groups:
    """``_grouped``, pair by pair (any hits; the pairs each hit reports listed for ``advice``)."""
    count = len(hits)
    pair_lists = [_pairs(hit) for hit in hits]
    # each pair is reported by the most severe hit that makes it, the first of equals: the hits
    # from the most severe (in order among equals) each claim the pairs not yet claimed; when
    # no pair comes twice (the common case), every hit reports all of its own
    won_sets: list[set[Pair] | None] = [None] * count  # None: all of the hit's own
    if len(set().union(*pair_lists)) < sum(map(len, pair_lists)):
        severities = [hit.edge.severity for hit in hits]
        order: Iterable[int] = range(count)
        if min(severities) != max(severities):
            order = sorted(order, key=lambda i: -severities[i])
        claimed: set[Pair] = set()
        for i in order:
            pairs_set = set(pair_lists[i])
            if not claimed.isdisjoint(pairs_set):
                won_sets[i] = pairs_set - claimed
            claimed |= pairs_set
    # advice is given each hit's pairs in the order they first came
    first_came = dict.fromkeys(pair for pairs in pair_lists for pair in pairs) if advice else {}

    grouped: Groups = {}
    for i, hit in enumerate(hits):
        won_set = won_sets[i]
        if won_set is None:
            if not pair_lists[i]:
                continue
            side_a, side_b = hit.drugs_a, hit.drugs_b
        elif won_set:
            in_pairs = {drug for pair in won_set for drug in pair}
            side_a = tuple(drug for drug in hit.drugs_a if drug in in_pairs)
            side_b = tuple(drug for drug in hit.drugs_b if drug in in_pairs)
        else:
            continue
        hit_pairs = []
        if advice:  # the pairs it reports, in the order they first came
            reported = set(pair_lists[i]) if won_set is None else won_set
            hit_pairs = [pair for pair in first_came if pair in reported]
        if side_a and side_b:
            if len(side_a) == 1 and len(side_b) == 1:
                a, b = side_a[0], side_b[0]
                drugs: tuple[str, ...] = (a, b) if a < b else (b, a)
            else:
                drugs = tuple(sorted({*side_a, *side_b}))
        else:
            drugs = side_a or side_b
        _add(grouped, (hit.edge.severity, drugs), (hit, hit_pairs, side_a, side_b))
    return grouped


def _grouped_common_side(hits: tuple[EdgeHit, ...]) -> Groups | None:
    """``_grouped`` without advice for hits that all have the same drugs on one side (the
    common case: NSAIDs with each risk factor, opioids with each CNS depressant), none of them
    on the other side; None otherwise.

    A hit's pairs are then that side with each name of its other side (a drug, or the
    condition), so the pairs two hits share are the common side with the names both other
    sides have: the claims (see ``_grouped``) are made on the other sides' names, and a hit
    that still reports some pairs reports the whole common side with the names not claimed
    before it. Nothing is done pair by pair.
    """
    first = hits[0]
    common = first.drugs_a
    if not common or first.drugs_b == common:
        return None
    common_set = set(common)
    others: list[tuple[str, ...]] = []
    for hit in hits:
        if hit.drugs_a == common:
            other = hit.drugs_b or (hit.edge.node_b,)
        elif hit.drugs_b == common:
            other = hit.drugs_a or (hit.edge.node_a,)
        else:
            return None
        if not common_set.isdisjoint(other):
            return None
        others.append(other)
    count = len(hits)
    won: list[set[str] | None] = [None] * count  # None: all of the hit's own
    if len(set().union(*others)) < sum(map(len, others)):
        severities = [hit.edge.severity for hit in hits]
        order: Iterable[int] = range(count)
        if min(severities) != max(severities):  # the most severe first, in order among equals
            order = sorted(order, key=severities.__getitem__, reverse=True)
        claimed: set[str] = set()
        for i in order:
            other = others[i]
            if not claimed.isdisjoint(other):
                won[i] = set(other) - claimed
            claimed.update(other)
    grouped: Groups = {}
    for i, hit in enumerate(hits):
        names = won[i]
        side_a, side_b = hit.drugs_a, hit.drugs_b
        if names is not None:
            if not names:
                continue
            if side_a is not common and side_a != common:
                side_a = tuple([drug for drug in side_a if drug in names])
            if side_b is not common and side_b != common:
                side_b = tuple([drug for drug in side_b if drug in names])
        # two sides without repeats and none in both, or one side with a condition
        drugs = tuple(sorted(side_a + side_b)) if side_a and side_b else side_a or side_b
        key = (hit.edge.severity, drugs)
        group = grouped.get(key)
        if group is None:
            grouped[key] = [(hit, [], side_a, side_b)]
        else:
            group.append((hit, [], side_a, side_b))
    return grouped


def _add(grouped: Groups, key: tuple[Severity, tuple[str, ...]], item: Won) -> None:
    """``item`` appended to its group (a new group for a new key)."""
    group = grouped.get(key)
    if group is None:
        grouped[key] = [item]
    else:
        group.append(item)


def _not_outranked(grouped: Groups, top: Severity) -> Groups:
    """The groups whose finding no more severe one covers (the most severe, ``top``, are
    kept): a finding's drugs are its key's and its hits' witnesses' (see ``_finding``)."""
    drug_sets: dict[tuple[Severity, tuple[str, ...]], set[str]] = {}
    kept: Groups = {}
    for key, group in grouped.items():
        severity = key[0]
        if severity == top:
            kept[key] = group
            continue
        drugs = _drug_set(key[1], group)
        for other, other_group in grouped.items():
            if other[0] > severity:
                covering = drug_sets.get(other)
                if covering is None:
                    covering = drug_sets[other] = _drug_set(other[1], other_group)
                if drugs <= covering:
                    break
        else:
            kept[key] = group
    return kept


def _drug_set(drugs: tuple[str, ...], group: list[Won]) -> set[str]:
    found = set(drugs)
    for entry in group:
        witnesses = entry[0].witnesses
        if witnesses:
            for _, drugs_met in witnesses:
                found.update(drugs_met)
    return found


def _pairs(hit: EdgeHit) -> list[Pair]:
    """Each pair the hit makes: two drugs (in name order), or a drug and the condition node."""
    edge = hit.edge
    if not hit.drugs_a:
        node = edge.node_a
        return [(drug, node) for drug in hit.drugs_b]
    if not hit.drugs_b:
        node = edge.node_b
        return [(drug, node) for drug in hit.drugs_a]
    return [(a, b) if a < b else (b, a) for a in hit.drugs_a for b in hit.drugs_b if a != b]


def _finding(
    spec: RuleSpec,
    drugs: tuple[str, ...],
    group: list[Won],
    wordings: tuple[EdgeWording, ...],
    advice: Advice | None,
    reword: Reword | None = None,
) -> Finding:
    """One finding for the hits of one severity over the same ``drugs``."""
    first_wording = wordings[group[0][0].position]
    if len(group) == 1:
        hit, pairs, side_a, side_b = group[0]
        parts = [_sentence(first_wording, hit, side_a, side_b)]
        if hit.presence:
            stated = _presence(first_wording, hit)
            parts.extend(dict.fromkeys(stated) if len(stated) > 1 else stated)
        recommendation = (advice(hit, pairs) if advice else "") or first_wording.recommendation
        section = first_wording.section or spec.guideline_section
        witnessed = hit.witnesses
    else:
        parts = []
        stated_all: list[str] = []
        recommendations: dict[str, None] = {}
        sections: dict[str, None] = {}
        witnessed = ()
        for hit, pairs, side_a, side_b in group:
            wording = wordings[hit.position]
            parts.append(_sentence(wording, hit, side_a, side_b))
            if hit.presence:
                stated_all.extend(_presence(wording, hit))
            recommendations[(advice(hit, pairs) if advice else "") or wording.recommendation] = None
            sections[wording.section or spec.guideline_section] = None
            witnessed += hit.witnesses
        parts.extend(dict.fromkeys(stated_all))
        recommendation = " ".join(recommendations)
        section = "; ".join(sections)
    if witnessed:
        drugs = _with_witnesses(drugs, witnessed)
    message = parts[0] if len(parts) == 1 else " ".join(parts)
    if reword:
        message, recommendation = reword(drugs, message, recommendation)
    return new_finding(
        Finding,
        (
            spec.rule_id,
            first_wording.severity,
            drugs,
            message,
            recommendation,
            section or spec.guideline_section,
            first_wording.ncpdp_reason_code or spec.ncpdp_reason_code,
            False,  # acknowledged
        ),
    )


def _with_witnesses(
    drugs: tuple[str, ...], witnesses: tuple[tuple[str, tuple[str, ...]], ...]
) -> tuple[str, ...]:
    """A finding's drugs with those that met its edges' escalations (none for a condition)."""
    met = [drug for _, found in witnesses for drug in found]
    return tuple(sorted({*drugs, *met})) if met else drugs


def _sentence(
    wording: EdgeWording, hit: EdgeHit, side_a: tuple[str, ...], side_b: tuple[str, ...]
) -> str:
    """``Opioids (oxycodone) with gabapentinoids (gabapentin): <rationale>`` or
    ``Ibuprofen in a patient with renal impairment: <rationale>``."""
    if hit.witnesses:
        tail = f"{wording.witness_head}{_witness_text(wording, hit)}{wording.witness_end}"
    else:
        # one drug with a patient condition, or one drug on each side: its sentence, worded at
        # start-up (a drug pair's in two halves)
        if not side_b:
            if len(side_a) == 1:
                text = wording.alone_a.get(side_a[0])
                if text is not None:
                    return text
        elif not side_a:
            if len(side_b) == 1:
                text = wording.alone_b.get(side_b[0])
                if text is not None:
                    return text
        elif len(side_a) == 1 and len(side_b) == 1:
            first = wording.pair_first.get(side_a[0])
            if first is not None:
                rest = wording.pair_rest.get(side_b[0])
                if rest is not None:
                    return first + rest
        tail = wording.tail
    if not side_a or not side_b:  # a drug and a patient condition
        drugs, patient = (side_b, wording.patient_a) if not side_a else (side_a, wording.patient_b)
        named = drugs[0] if len(drugs) == 1 else join(drugs)
        return f"{named[:1].upper()}{named[1:]}{patient}{tail}"
    label_a, label_b = wording.label_a, wording.label_b
    if len(side_a) == 1 and side_a[0] == label_a:
        first = wording.first_a
    else:
        first = f"{wording.first_a} ({side_a[0] if len(side_a) == 1 else join(side_a)})"
    if len(side_b) == 1 and side_b[0] == label_b:
        second = label_b
    else:
        second = f"{label_b} ({side_b[0] if len(side_b) == 1 else join(side_b)})"
    return f"{first} with {second}{tail}"


def _witness_text(wording: EdgeWording, hit: EdgeHit) -> str:
    """What met an escalation: ``clopidogrel (antiplatelet agents)``, ``age 65 or older``."""
    labels = wording.witness_labels
    texts = []
    for node, drugs in hit.witnesses:
        if drugs:
            texts.append(f"{join(drugs)} ({labels[node]})")
        else:
            texts.append(f"a patient {labels[node]}")
    return join(texts)


def _presence(wording: EdgeWording, hit: EdgeHit) -> list[str]:
    """``Gastroprotective agents in the regimen: omeprazole.`` or ``No ... in the regimen.``,
    for each node the edge states the presence of."""
    if len(hit.presence) == 1:  # the common case: one node (gastroprotection)
        (present_start, absent), (_, present) = wording.presence[0], hit.presence[0]
        if not present:
            return [absent]
        return [f"{present_start}{present[0] if len(present) == 1 else join(present)}."]
    return [
        (
            f"{present_start}{present[0] if len(present) == 1 else join(present)}."
            if present
            else absent
        )
        for (present_start, absent), (_, present) in zip(
            wording.presence, hit.presence, strict=True
        )
    ]
