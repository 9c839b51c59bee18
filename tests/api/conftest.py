"""Fixtures of the API tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    # schemathesis 4.32.5 reads ``request.node._nodeid`` (to label each operation's subtest of
    # tests/api/test_schemathesis*.py), an attribute pytest 9.2 no longer has (node ids moved to
    # ``Node._id``); give it the node's id.
    request.node._nodeid = request.node.nodeid
