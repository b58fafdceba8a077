"""Condition spaces: label names <-> multi-hot vectors, exclusive groups and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from generators.core.conditions import ConditionGroup, ConditionSpace, normalise_label
from generators.core.errors import ConditionError

SPACE = ConditionSpace(
    (
        ConditionGroup("contains", ("enemy", "pipe", "coin")),
        ConditionGroup("game", ("smb", "smb2"), exclusive=True),
    )
)


def test_encode_sets_the_named_labels_and_decode_reads_them_back():
    vector = SPACE.encode(["pipe", "coin", "smb2"])
    assert vector.dtype == np.float32
    assert vector.tolist() == [0, 1, 1, 0, 1]
    assert SPACE.decode(vector) == ["pipe", "coin", "smb2"]


def test_an_exclusive_group_with_no_label_takes_its_first():
    assert SPACE.encode(["enemy"]).tolist() == [1, 0, 0, 1, 0]
    assert SPACE.encode(None).tolist() == [0, 0, 0, 1, 0]
    assert SPACE.encode([]).tolist() == [0, 0, 0, 1, 0]


def test_two_labels_of_an_exclusive_group_are_an_error():
    with pytest.raises(ConditionError, match="choose one game, not smb and smb2"):
        SPACE.encode(["smb", "smb2"])


def test_multi_label_group_accepts_every_label():
    assert SPACE.encode(["enemy", "pipe", "coin"]).tolist() == [1, 1, 1, 1, 0]


def test_unknown_label_error_lists_the_valid_ones():
    with pytest.raises(ConditionError) as caught:
        SPACE.encode(["pipe", "lava"])
    assert str(caught.value) == "unknown condition 'lava'; valid conditions: enemy, pipe, coin, smb, smb2"


def test_a_space_without_labels_says_so():
    with pytest.raises(ConditionError, match="takes no conditions"):
        ConditionSpace().encode(["pipe"])


def test_labels_are_matched_case_blind_with_spaces_as_hyphens():
    assert normalise_label("  Question_Block ") == "question-block"
    space = ConditionSpace((ConditionGroup("contains", ("question-block",)),))
    assert space.encode(["Question Block"]).tolist() == [1]


def test_card_round_trip_keeps_groups_and_exclusivity():
    again = ConditionSpace.from_card(SPACE.to_card())
    assert again == SPACE
    assert again.size == 5
