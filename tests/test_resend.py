"""Resender: the reader's own set-up commands are resent after 250 ms, four tries (protocol.md 9)."""

from device.framing import CommandOp
from device.resend import ACK_WAIT_S, Resender


def test_unanswered_commands_are_resent_then_given_up_on_the_injected_clock():
    r = Resender()
    r.sent(CommandOp.START, 0, seq=7, now=10.0)
    r.sent(CommandOp.SET_RATE, 50, seq=8, now=10.0)
    assert r.due(10.0 + ACK_WAIT_S - 0.001) == ([], [])  # not yet
    again, given_up = r.due(10.0 + ACK_WAIT_S)
    assert [i.op for i in again] == [CommandOp.START, CommandOp.SET_RATE] and given_up == []
    for seq, item in zip((9, 10), again, strict=True):
        r.resent(item, seq, 10.25)
    # An ACK of the first try answers the command: the resend needs none.
    assert r.answered(8).op == CommandOp.SET_RATE and CommandOp.SET_RATE not in r
    assert r.answered(10) is None
    now = 10.25
    for seq in (11, 12):  # START: the third and fourth tries
        now += ACK_WAIT_S
        [item], _ = r.due(now)
        r.resent(item, seq, now)
    again, given_up = r.due(now + ACK_WAIT_S)
    assert again == [] and [(i.op, i.seqs) for i in given_up] == [(CommandOp.START, [7, 9, 11, 12])]
    assert not r


def test_sending_an_op_again_supersedes_the_outstanding_one():
    r = Resender()
    r.sent(CommandOp.START, 0, seq=1, now=0.0)
    r.sent(CommandOp.START, 0, seq=5, now=1.0)
    assert r.answered(1) is None and CommandOp.START in r
    assert r.due(1.1) == ([], [])
    assert r.answered(5).seqs == [5] and not r
