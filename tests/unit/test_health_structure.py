"""The compiled structural validator's yes/no pass never accepts what its reporting walker rejects.

``CompiledValidator.validate`` answers valid bundles from a fast yes/no pass and only runs the
reporting walker (the issues and their FHIRPaths) when that pass says no. Both are built from the same
definitions; this checks, on thousands of seeded random mutations of a realistic bundle, that they agree
exactly: the fast pass says yes if and only if the walker finds no issue.
"""

from __future__ import annotations

import copy
import random
from typing import Any

from adapters.dev.health_bundles import typical_bundle
from adapters.fhir.structure import CompiledValidator, _fast_any_resource
from domain.health.issues import Issue

AN = "001085000101"
_VALIDATOR = CompiledValidator()

# Values that break FHIR JSON somewhere (wrong JSON type, empty, null, bad primitive) and some that fit.
_VALUES: list[Any] = [
    None,
    [],
    {},
    "",
    " ",
    0,
    -1,
    1.5,
    True,
    "x y",
    "2026-02-30",
    "2026-01-01T10:00:00+07:00",
    "final",
    [1],
    ["a"],
    [{}],
    [None],
    {"a": 1},
    {"extension": [{"url": "u", "valueString": "v"}]},
    {"id": "x"},
    {"resourceType": "Nope"},
    {"resourceType": "Basic", "code": {"text": "t"}},
]
_KEYS = [
    "status",
    "text",
    "code",
    "valueString",
    "valueQuantity",
    "valueBoolean",
    "_status",
    "_gender",
    "id",
    "extension",
    "unknownThing",
    "resourceType",
    "subject",
    "coding",
    "system",
    "value",
    "fhir_comments",
    "effectiveDateTime",
    "effectivePeriod",
    "onsetDateTime",
    "onsetString",
    "resource",
    "_birthDate",
]


def _walker_issues(bundle: Any) -> list[Issue]:
    issues: list[Issue] = []
    _VALIDATOR._resource(bundle, "Bundle", issues)
    return issues


def _nodes(node: Any, out: list[Any]) -> list[Any]:
    if isinstance(node, dict):
        out.append(node)
        for v in node.values():
            _nodes(v, out)
    elif isinstance(node, list):
        out.append(node)
        for v in node:
            _nodes(v, out)
    return out


def _mutate(bundle: dict[str, Any], rng: random.Random) -> None:
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        node = rng.choice(_nodes(bundle, [])[1:])
        if isinstance(node, list):
            if node and rng.random() < 0.5:
                node[rng.randrange(len(node))] = copy.deepcopy(rng.choice(_VALUES))
            elif node:
                node.pop(rng.randrange(len(node)))
            continue
        choice = rng.random()
        if choice < 0.3 and node:
            node.pop(rng.choice(list(node)))
        elif choice < 0.6 and node:
            node[rng.choice(list(node))] = copy.deepcopy(rng.choice(_VALUES))
        elif choice < 0.8 and node:
            key = rng.choice(list(node))
            node[key] = [node[key]] if not isinstance(node[key], list) else (node[key][0] if node[key] else None)
        else:
            node[rng.choice(_KEYS)] = copy.deepcopy(rng.choice(_VALUES))


def test_the_fast_pass_agrees_with_the_reporting_walker_on_random_mutations() -> None:
    rng = random.Random(11)
    good = typical_bundle(personal_id=AN, bundle_type="transaction")
    assert _fast_any_resource(good)
    assert _walker_issues(good) == _VALIDATOR.validate(good) == []
    rejected = 0
    for _ in range(1500):
        bundle = copy.deepcopy(good)
        _mutate(bundle, rng)
        issues = _walker_issues(bundle)
        assert _fast_any_resource(bundle) == (not issues), (issues, bundle)
        if isinstance(bundle, dict) and bundle.get("resourceType") == "Bundle":
            assert _VALIDATOR.validate(bundle) == issues
        rejected += bool(issues)
    assert rejected > 1100  # the mutations do break bundles (most of them)
