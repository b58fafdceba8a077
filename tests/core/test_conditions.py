"""Condition spaces: label names <-> multi-hot vectors, exclusive groups and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from generators.core.conditions import Condition, ConditionGroup, ConditionSpace, LabelDistribution, normalise_label
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


# --- the three states: required, excluded, any -------------------------------------------

TRAINING = [["enemy", "smb"]] * 50 + [["pipe", "coin", "smb2"]] * 30 + [["smb"]] * 20
DISTRIBUTION = LabelDistribution.from_vectors(SPACE.labels, np.stack([SPACE.encode(lb) for lb in TRAINING]))


def shares(condition, seeds=range(2000)):
    drawn = np.stack([SPACE.encode(SPACE.resolve(condition, DISTRIBUTION, s)) for s in seeds])
    return dict(zip(SPACE.labels, drawn.mean(0)))


def test_nothing_asked_draws_label_sets_as_often_as_the_training_data_has_them():
    got = shares(Condition())
    assert abs(got["enemy"] - 0.5) < 0.04 and abs(got["pipe"] - 0.3) < 0.04 and abs(got["smb2"] - 0.3) < 0.04
    assert got["enemy"] + got["pipe"] + (1 - got["enemy"] - got["pipe"]) == pytest.approx(1.0)


def test_required_labels_are_always_on_and_excluded_never_and_the_rest_follow_the_data():
    got = shares(Condition(("coin",)))
    assert got["coin"] == 1.0 and got["pipe"] == 1.0 and got["smb2"] == 1.0  # coin only ever came with them
    got = shares(Condition((), ("enemy",)))
    assert got["enemy"] == 0.0 and 0.5 < got["pipe"] < 0.7  # 30 of the 50 items left
    assert shares(Condition(("smb",)))["smb"] == 1.0


def test_a_combination_the_data_never_shows_draws_each_open_label_by_its_share():
    got = shares(Condition(("enemy", "pipe")))
    assert got["enemy"] == got["pipe"] == 1.0 and 0.2 < got["coin"] < 0.4


def test_each_seed_draws_its_own_labels_the_same_every_time():
    first = [SPACE.resolve(Condition(), DISTRIBUTION, s) for s in range(20)]
    assert first == [SPACE.resolve(Condition(), DISTRIBUTION, s) for s in range(20)]
    assert len({tuple(lb) for lb in first}) == 3


def test_without_a_distribution_open_labels_are_off_as_old_checkpoints_decoded():
    assert SPACE.resolve(Condition(("pipe",)), None, 3) == ["pipe", "smb"]
    assert SPACE.resolve(Condition((), ("smb",)), None, 3) == ["smb2"]


def test_impossible_conditions_are_one_clear_error():
    with pytest.raises(ConditionError, match="both required and excluded"):
        SPACE.check(Condition(("pipe",), ("pipe",)))
    with pytest.raises(ConditionError, match="every game is excluded"):
        SPACE.check(Condition((), ("smb", "smb2")))
    with pytest.raises(ConditionError, match="unknown condition 'lava'"):
        SPACE.check(Condition((), ("lava",)))


def test_pin_resolves_to_exactly_its_labels_whatever_the_seed():
    pinned = SPACE.pin(["coin", "smb"])
    assert pinned == Condition(("coin", "smb"), ("enemy", "pipe"))
    assert {tuple(SPACE.resolve(pinned, DISTRIBUTION, s)) for s in range(50)} == {("coin", "smb")}


def test_the_distribution_round_trips_through_the_card():
    again = LabelDistribution.from_card(SPACE, DISTRIBUTION.to_card())
    assert again.share() == pytest.approx(DISTRIBUTION.share())
    assert sorted(row["count"] for row in DISTRIBUTION.to_card()) == [20, 30, 50]
