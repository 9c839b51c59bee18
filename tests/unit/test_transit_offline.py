"""The reference offline verifier: what a gate accepts and every way it must refuse."""

from __future__ import annotations

import uuid

import pytest

from adapters.transit_crypto.mobile import ReferencePhone
from adapters.transit_crypto.offline import keys_from_json, keys_to_json
from adapters.transit_crypto.p256 import P256Signer, P256Verifier, generate
from domain.transit.codes import NO_EXPIRY, Direction, Network, ProductKind, Rejection
from domain.transit.denylist import DenyEntry, DenyKind, DenyListGap, DenyListRejected, device_subject
from domain.transit.passback import PassbackMemory
from domain.transit.qr import CODE_SIGNED_LEN, CREDENTIAL_LEN, PassFacts
from domain.transit.trust import IssuerKey
from domain.transit.validation import VerifiedCredentials, _Verified
from tests.support.transit import DAY, NOW, Issuer, gate, monthly_facts, paper_facts, phone_with


@pytest.fixture
def issuer() -> Issuer:
    return Issuer()


def test_a_fresh_code_is_accepted_with_its_facts(issuer: Issuer) -> None:
    facts = monthly_facts()
    verdict = gate(issuer).verify(phone_with(issuer, facts).code(NOW), NOW)
    assert verdict.accepted
    assert verdict.reason is None
    assert verdict.facts == facts
    assert verdict.kind == "pass"
    assert verdict.timestamp == NOW


def test_phone_clock_is_corrected_by_the_server_time(issuer: Issuer) -> None:
    phone = ReferencePhone()
    # The phone's clock is 10 minutes slow; the credential told it the server's time.
    phone.install(issuer.credential(monthly_facts(), phone.public_key, NOW - 60), server_time=NOW - 60,
                  local_time=NOW - 660)
    assert gate(issuer).verify(phone.code(NOW - 600), NOW).accepted


def test_expired_code(issuer: Issuer) -> None:
    phone = phone_with(issuer, monthly_facts())
    assert gate(issuer).verify(phone.code(NOW - 31), NOW).reason is Rejection.CODE_EXPIRED
    assert gate(issuer).verify(phone.code(NOW - 30), NOW).accepted


def test_code_from_the_future_beyond_the_skew(issuer: Issuer) -> None:
    phone = phone_with(issuer, monthly_facts())
    assert gate(issuer).verify(phone.code(NOW + 16), NOW).reason is Rejection.CODE_FROM_FUTURE
    assert gate(issuer).verify(phone.code(NOW + 15), NOW).accepted


@pytest.mark.parametrize("cut", [CREDENTIAL_LEN, CODE_SIGNED_LEN])
def test_stripped_device_signature_is_forged_not_unsigned(issuer: Issuer, cut: int) -> None:
    data = phone_with(issuer, monthly_facts()).code(NOW)
    assert gate(issuer).verify(data[:cut], NOW).reason is Rejection.FORGED


def test_zeroed_or_wrong_device_signature_is_forged(issuer: Issuer) -> None:
    data = phone_with(issuer, monthly_facts()).code(NOW)
    assert gate(issuer).verify(data[:CODE_SIGNED_LEN] + bytes(64), NOW).reason is Rejection.FORGED
    # Changing the timestamp after signing (stretching a screenshot's life) breaks the device signature.
    stretched = data[:141] + (NOW + 5).to_bytes(4, "big") + data[145:]
    assert gate(issuer).verify(stretched, NOW).reason is Rejection.FORGED


def test_credential_copied_to_another_phone_is_forged(issuer: Issuer) -> None:
    owner = phone_with(issuer, monthly_facts())
    thief = ReferencePhone()
    assert owner.generator is not None
    with pytest.raises(ValueError, match="another device"):
        thief.install(owner.generator.credential, NOW, NOW)
    # Signing the stolen credential with the thief's key anyway does not verify at the gate.
    from domain.transit.qr import assemble_code, code_to_sign
    signed = code_to_sign(owner.generator.credential, NOW, 0)
    assert gate(issuer).verify(assemble_code(signed, thief.device.sign(signed)), NOW).reason is Rejection.FORGED


def test_forged_issuer_signature(issuer: Issuer) -> None:
    facts = monthly_facts()
    phone = ReferencePhone()
    # An attacker with their own key but the genuine kid: the device signature is fine, the issuer's is not.
    mallory = Issuer(kid=issuer.key.kid)
    phone.install(mallory.credential(facts, phone.public_key), NOW - 3600, NOW - 3600)
    assert gate(issuer).verify(phone.code(NOW), NOW).reason is Rejection.FORGED


def test_tampered_pass_facts_break_the_issuer_signature(issuer: Issuer) -> None:
    phone = phone_with(issuer, monthly_facts(route=12, networks=Network.BUS, product=ProductKind.MONTHLY_ROUTE))
    assert phone.generator is not None
    cred = bytearray(phone.generator.credential)
    cred[26:28] = (0).to_bytes(2, "big")  # one route -> all routes
    phone.generator.credential = bytes(cred)
    assert gate(issuer, networks=Network.BUS).verify(phone.code(NOW), NOW).reason is Rejection.FORGED


def test_unknown_kid(issuer: Issuer) -> None:
    other = Issuer(kid=99)
    assert gate(issuer).verify(phone_with(other, monthly_facts()).code(NOW), NOW).reason is Rejection.UNKNOWN_KID


def test_key_outside_its_window(issuer: Issuer) -> None:
    retired = Issuer(kid=8, valid_from=NOW - 100 * DAY, valid_until=NOW - 1)
    assert gate(retired).verify(phone_with(retired, monthly_facts()).code(NOW), NOW).reason is Rejection.KEY_NOT_VALID
    future = Issuer(kid=9, valid_from=NOW + 1)
    assert gate(future).verify(phone_with(future, monthly_facts()).code(NOW), NOW).reason is Rejection.KEY_NOT_VALID
    # A credential back-dated before its key existed is refused even while the key is valid now.
    young = Issuer(kid=10, valid_from=NOW - 600)
    old = phone_with(young, monthly_facts(), issued_at=NOW - 3600)
    assert gate(young).verify(old.code(NOW), NOW).reason is Rejection.KEY_NOT_VALID


def test_credential_expiry_and_lifetime(issuer: Issuer) -> None:
    facts = monthly_facts()
    phone = ReferencePhone()
    phone.install(issuer.credential(facts, phone.public_key, NOW - 72 * 3600, NOW - 60), NOW, NOW)
    assert gate(issuer).verify(phone.code(NOW), NOW).reason is Rejection.CREDENTIAL_EXPIRED
    later = ReferencePhone()
    later.install(issuer.credential(facts, later.public_key, NOW + 3600, NOW + 7200), NOW, NOW)
    assert gate(issuer).verify(later.code(NOW), NOW).reason is Rejection.CREDENTIAL_NOT_YET_VALID


def test_pass_window_network_and_route(issuer: Issuer) -> None:
    pid = uuid.uuid4()
    ended = PassFacts(pid, ProductKind.DAY, 1, Network.METRO, 0, NOW - 2 * DAY, NOW - DAY)
    phone = ReferencePhone()
    phone.install(issuer.credential(ended, phone.public_key, NOW - 2 * DAY + 60, NOW - DAY), NOW, NOW)
    # The credential ended with the pass, so the credential check already refuses it.
    assert gate(issuer).verify(phone.code(NOW), NOW).reason is Rejection.CREDENTIAL_EXPIRED
    bus = phone_with(issuer, monthly_facts(networks=Network.BUS))
    assert gate(issuer).verify(bus.code(NOW), NOW).reason is Rejection.WRONG_NETWORK
    route12 = phone_with(issuer, monthly_facts(route=12, product=ProductKind.MONTHLY_ROUTE))
    assert gate(issuer, route=3).verify(route12.code(NOW), NOW).reason is Rejection.WRONG_ROUTE
    assert gate(issuer, route=12).verify(route12.code(NOW + 1), NOW).accepted
    soon = PassFacts(uuid.uuid4(), ProductKind.WEEK, 1, Network.METRO, 0, NOW + 3600, NOW + 8 * DAY)
    assert gate(issuer).verify(phone_with(issuer, soon, issued_at=NOW - 60).code(NOW), NOW).reason \
        is Rejection.PASS_NOT_YET_VALID


def test_free_pass_without_expiry(issuer: Issuer) -> None:
    free = PassFacts(uuid.uuid4(), ProductKind.FREE, 5, Network.BUS | Network.METRO, 0, NOW - 400 * DAY, NO_EXPIRY)
    assert gate(issuer).verify(phone_with(issuer, free).code(NOW), NOW).accepted


def test_revoked_pass_is_refused_after_the_deny_list_syncs(issuer: Issuer) -> None:
    facts = monthly_facts()
    phone = phone_with(issuer, facts)
    g = gate(issuer)
    assert g.verify(phone.code(NOW - 20), NOW - 20).accepted
    g.apply_deny_list(issuer.deny([DenyEntry(DenyKind.PASS, facts.pass_id.bytes, facts.valid_until)], 1), NOW)
    assert g.deny_seq == 1
    assert g.verify(phone.code(NOW + 700), NOW + 700).reason is Rejection.DENIED


def test_unbound_device_is_refused(issuer: Issuer) -> None:
    facts = monthly_facts()
    old_phone = phone_with(issuer, facts)
    new_phone = phone_with(issuer, facts)
    g = gate(issuer)
    g.apply_deny_list(issuer.deny([DenyEntry(DenyKind.DEVICE, device_subject(old_phone.public_key), NOW + 3 * DAY)],
                                  4), NOW)
    assert g.verify(old_phone.code(NOW), NOW).reason is Rejection.DENIED
    assert g.verify(new_phone.code(NOW), NOW).accepted


def test_deny_list_deltas_snapshots_and_bad_documents(issuer: Issuer) -> None:
    g = gate(issuer)
    a, b, c = (DenyEntry(DenyKind.PASS, uuid.uuid4().bytes, NOW + DAY) for _ in range(3))
    g.apply_deny_list(issuer.deny([a], 3), NOW)
    with pytest.raises(DenyListGap):
        g.apply_deny_list(issuer.deny([c], 9, from_seq=5), NOW)
    g.apply_deny_list(issuer.deny([b], 4, from_seq=3), NOW)
    assert (g.deny_seq, len(g.deny)) == (4, 2)
    with pytest.raises(DenyListRejected):
        g.apply_deny_list(issuer.deny([a], 2), NOW)  # older than what the gate holds
    forged = issuer.deny([c], 5, from_seq=4)
    with pytest.raises(DenyListRejected):
        g.apply_deny_list(forged[:-64] + bytes(64), NOW)
    with pytest.raises(DenyListRejected):
        g.apply_deny_list(Issuer(kid=issuer.key.kid).deny([c], 5, from_seq=4), NOW)
    assert (g.deny_seq, len(g.deny)) == (4, 2)  # nothing applied from the refused documents
    g.apply_deny_list(issuer.deny([c], 10), NOW)  # a snapshot replaces everything
    assert (g.deny_seq, len(g.deny)) == (10, 1)
    assert g.deny.denies(DenyKind.PASS, c.subject)
    assert not g.deny.denies(DenyKind.PASS, a.subject)
    assert g.deny.prune(NOW + 2 * DAY) == 1


def test_replay_on_a_second_gate_within_the_anti_passback_window(issuer: Issuer) -> None:
    station = PassbackMemory(window_s=600, code_ttl_s=60)
    gate_a, gate_b = gate(issuer, memory=station), gate(issuer, memory=station)
    phone = phone_with(issuer, monthly_facts())
    code = phone.code(NOW)
    assert gate_a.verify(code, NOW).accepted
    assert gate_b.verify(code, NOW + 2).reason is Rejection.REPLAY        # a screenshot of the same code
    assert gate_b.verify(phone.code(NOW + 3), NOW + 3).reason is Rejection.PASSBACK  # a fresh code, same pass
    assert gate_b.verify(phone.code(NOW + 601), NOW + 601).accepted       # after the window


def test_exit_clears_the_entry(issuer: Issuer) -> None:
    station = PassbackMemory(window_s=600, code_ttl_s=60)
    entry, exit_ = gate(issuer, memory=station), gate(issuer, memory=station, direction=Direction.OUT)
    phone = phone_with(issuer, monthly_facts())
    assert entry.verify(phone.code(NOW), NOW).accepted
    assert exit_.verify(phone.code(NOW + 120), NOW + 120).accepted
    assert entry.verify(phone.code(NOW + 180), NOW + 180).accepted


def test_paper_ticket_used_twice(issuer: Issuer) -> None:
    station = PassbackMemory()
    facts = paper_facts()
    ticket = issuer.paper(facts)
    g1, g2 = gate(issuer, memory=station), gate(issuer, memory=station)
    verdict = g1.verify(ticket, NOW)
    assert verdict.accepted
    assert verdict.kind == "paper"
    assert verdict.facts == facts
    assert g2.verify(ticket, NOW + 5).reason is Rejection.TICKET_USED
    # At another station (its own memory) the synced deny list refuses the second entry.
    elsewhere = gate(issuer)
    elsewhere.apply_deny_list(issuer.deny([DenyEntry(DenyKind.TICKET_ENTERED, facts.pass_id.bytes, NOW + DAY)], 1),
                              NOW)
    assert elsewhere.verify(ticket, NOW + 60).reason is Rejection.TICKET_USED
    # ... while the rider may still leave through an exit gate, once.
    exit_gate = gate(issuer, direction=Direction.OUT, memory=station)
    assert exit_gate.verify(ticket, NOW + 900).accepted
    assert exit_gate.verify(ticket, NOW + 901).reason is Rejection.TICKET_USED


def test_paper_ticket_forgery_and_kind_downgrade(issuer: Issuer) -> None:
    ticket = issuer.paper(paper_facts())
    assert gate(issuer).verify(ticket[:36] + bytes(64), NOW).reason is Rejection.FORGED
    assert gate(issuer).verify(Issuer(kid=issuer.key.kid).paper(paper_facts()), NOW).reason is Rejection.FORGED
    # A credential relabelled as a paper ticket (to skip the device signature) does not verify.
    code = phone_with(issuer, monthly_facts(networks=Network.METRO)).code(NOW)
    relabelled = code[:2] + b"\x02" + code[3:36] + code[77:141]
    assert gate(issuer).verify(relabelled, NOW).reason is Rejection.FORGED


def test_garbage_is_malformed(issuer: Issuer) -> None:
    g = gate(issuer)
    assert g.verify(b"", NOW).reason is Rejection.MALFORMED
    assert g.verify(b'{"pass":"valid"}', NOW).reason is Rejection.MALFORMED  # unsigned JSON (the Eventra hole)
    assert g.verify(b"T\x02\x01" + bytes(208), NOW).reason is Rejection.UNSUPPORTED_VERSION


def test_published_keys_json_round_trip(issuer: Issuer) -> None:
    keys = [issuer.key, IssuerKey(8, P256Signer(generate()).public_key, NOW, NOW + DAY)]
    assert keys_from_json(keys_to_json(keys)) == keys


def test_verifier_port_never_raises_on_bad_input() -> None:
    v = P256Verifier()
    signer = P256Signer(generate())
    sig = signer.sign(b"x")
    assert v.verify(signer.public_key, sig, b"x")
    assert not v.verify(b"\x02" + bytes(32), sig, b"x")         # not a point on the curve
    assert not v.verify(signer.public_key, sig[:63], b"x")
    assert not v.verify(signer.public_key, bytes(64), b"x")      # r = s = 0
    n = (0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551).to_bytes(32, "big")
    assert not v.verify(signer.public_key, n + sig[32:], b"x")   # r out of range


def test_the_memory_of_verified_credentials_drops_the_least_recently_used() -> None:
    """A rider whose credential is scanned again stays remembered while credentials seen once go first."""
    memory = VerifiedCredentials(size=2)
    seen = {name: _Verified(issuer_key=b"k", device_subject=name) for name in (b"a", b"b", b"c")}
    memory.add(b"a", seen[b"a"])
    memory.add(b"b", seen[b"b"])
    assert memory.get(b"a") == seen[b"a"]  # used again: now the most recent
    memory.add(b"c", seen[b"c"])
    assert memory.get(b"b") is None
    assert (memory.get(b"a"), memory.get(b"c")) == (seen[b"a"], seen[b"c"])
