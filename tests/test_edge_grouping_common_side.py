"""The edge findings' grouping over a common side (interaction_edges._grouped_common_side) is
the pair-by-pair grouping it stands in for (``_grouped_by_pairs``), on the hits of every rule of
generated regimens (orders repeating, and every order unique), the benchmark's 5- to 50-order
regimens and every clinical scenario; and it does stand in for most of them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.protobuf import json_format

from bench.bulkgen import Generator
from bench.regimens import unary_pool
from regimenguard.regimen.facts import EdgeHit, build_facts
from regimenguard.regimen.knowledge import Knowledge
from regimenguard.regimen.rules.interaction_edges import _grouped_by_pairs, _grouped_common_side
from regimenguard.regimen.validation import RequestInvalid, normalized, request_error
from regimenguard.server.convert import decode_request
from regimenguard.v1 import regimen_checker_pb2 as pb
from tests.scenarios import SCENARIOS

SAMPLE = 2000


def _sample(unique: bool) -> Iterator[pb.CheckRegimenRequest]:
    generator = Generator(unique_orders=unique)
    for i in range(0, SAMPLE * 5, 5):
        yield pb.CheckRegimenRequest.FromString(generator.regimen(i))
    for size in (5, 20, 50):
        yield from unary_pool(8, size)
    for scenario in SCENARIOS:
        yield json_format.ParseDict(scenario.request, pb.CheckRegimenRequest())


def _several_hits(knowledge: Knowledge, unique: bool) -> Iterator[tuple[EdgeHit, ...]]:
    for message in _sample(unique):
        decoded = decode_request(message, knowledge)
        if isinstance(decoded, RequestInvalid) or request_error(
            decoded, knowledge.settings, knowledge
        ):
            continue
        for hits in build_facts(normalized(decoded), knowledge).edge_hits_by_rule.values():
            if len(hits) > 1:
                yield hits


@pytest.mark.parametrize("unique", [False, True], ids=["orders-repeat", "every-order-unique"])
def test_grouping_over_a_common_side_is_the_pairwise_grouping(
    knowledge: Knowledge, unique: bool
) -> None:
    compared = claimed = 0
    for hits in _several_hits(knowledge, unique):
        grouped = _grouped_common_side(hits)
        if grouped is None:
            continue
        compared += 1
        expected = _grouped_by_pairs(hits, None)
        assert list(grouped.items()) == list(expected.items()), hits
        # some hits give up pairs to a more severe one (the claims are exercised)
        claimed += sum(len(group) for group in grouped.values()) < len(hits)
    assert compared >= 100
    assert claimed >= 10
