"""Synthetic tasks: layout, labels only on answers, seeded splits, sizes from the model, the random control."""

from __future__ import annotations

import pytest
import torch
from data_helpers import fake_loaded

from tbwidgets.training.config import TrainingConfig
from tbwidgets.training.data import TASKS, make_data
from tbwidgets.training.data.synthetic import BOS, MASK, N_SPECIAL, OP, SEP


def _all(loader: object) -> dict[str, torch.Tensor]:
    batches = list(loader)  # type: ignore[call-overload]
    return {k: torch.cat([b[k] for b in batches]) for k in batches[0]}


def test_copy_layout_and_labels_only_on_the_answer() -> None:
    data = make_data("copy", fake_loaded(), TrainingConfig(batch_size=16))
    assert data.kind == "causal-lm" and data.task == "copy"
    batch = next(iter(data.train))
    assert set(batch) == {"input_ids", "labels"}  # nothing padded: no attention mask
    ids, labels = batch["input_ids"], batch["labels"]
    assert ids.shape == labels.shape == (16, 18) and ids.dtype == torch.long
    assert (ids[:, 0] == BOS).all() and (ids[:, 9] == SEP).all()
    assert torch.equal(ids[:, 1:9], ids[:, 10:])  # the answer repeats the question
    assert (labels[:, :10] == -100).all() and torch.equal(labels[:, 10:], ids[:, 10:])
    assert ids.max() < N_SPECIAL + 16 and data.chance_accuracy == pytest.approx(1 / 16)
    assert "90 %" in data.expected and data.n_train == 9000 and data.n_val == 1000


@pytest.mark.parametrize(
    ("task", "answer"),
    [
        ("reverse", lambda x: x.flip(1)),
        ("sort", lambda x: x.sort(dim=1).values),
    ],
)
def test_reverse_and_sort_answers(task: str, answer: object) -> None:
    ids = next(iter(make_data(task, fake_loaded()).train))["input_ids"]
    assert torch.equal(ids[:, 10:], answer(ids[:, 1:9]))  # type: ignore[operator]


def test_modular_addition_is_all_pairs_with_the_sum_as_answer() -> None:
    data = make_data("modular_addition", fake_loaded(vocab=64), TrainingConfig(validation_split=0.5))
    p = 64 - N_SPECIAL
    both = torch.cat([_all(data.train)["input_ids"], _all(data.val)["input_ids"]])  # type: ignore[arg-type]
    assert both.shape == (p * p, 6) and len({tuple(r.tolist()) for r in both}) == p * p
    assert (both[:, 2] == OP).all() and (both[:, 4] == SEP).all()
    a, b, c = (both[:, i] - N_SPECIAL for i in (1, 3, 5))
    assert torch.equal(c, (a + b) % p)
    labels = _all(data.train)["labels"]
    assert (labels[:, :5] == -100).all() and (labels[:, 5] >= N_SPECIAL).all()


def test_random_control_answers_do_not_follow_the_question() -> None:
    ids = _all(make_data("random", fake_loaded()).train)["input_ids"]
    q, a = ids[:, 1:9], ids[:, 10:]
    same = (q == a).float().mean().item()
    assert same == pytest.approx(1 / 16, abs=0.01)  # chance agreement only
    assert "not learnable" in make_data("random", fake_loaded()).expected.lower()


def test_same_seed_same_split_and_batches_other_seed_differs() -> None:
    def first_batches(seed: int) -> list[torch.Tensor]:
        data = make_data("copy", fake_loaded(), TrainingConfig(random_seed=seed))
        it = iter(data.train)
        return [next(it)["input_ids"] for _ in range(3)] + [next(iter(data.val))["input_ids"]]  # type: ignore[arg-type]

    a, b, c = first_batches(1), first_batches(1), first_batches(2)
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not torch.equal(a[0], c[0]) and not torch.equal(a[3], c[3])


def test_train_and_validation_examples_are_disjoint() -> None:
    data = make_data("modular_addition", fake_loaded(vocab=40))
    train = {tuple(r.tolist()) for r in _all(data.train)["input_ids"]}
    val = {tuple(r.tolist()) for r in _all(data.val)["input_ids"]}  # type: ignore[arg-type]
    assert train and val and not train & val
    assert len(val) == round(0.1 * (40 - N_SPECIAL) ** 2)


def test_sizes_follow_the_model_and_small_models_get_a_clear_error() -> None:
    short = make_data("copy", fake_loaded(max_len=10))
    assert short.seq_len == 10  # [BOS] 4 symbols [SEP] 4 symbols
    small_vocab = make_data("copy", fake_loaded(vocab=9))
    assert small_vocab.chance_accuracy == pytest.approx(1 / 4)
    with pytest.raises(ValueError, match=r"vocabulary of ≥ 7 tokens.*has 6 tokens"):
        make_data("copy", fake_loaded(vocab=6))
    with pytest.raises(ValueError, match="usable length of 5"):
        make_data("copy", fake_loaded(max_len=5))
    hint = make_data("copy", fake_loaded(), TrainingConfig(seq_len=8))
    assert hint.seq_len == 8


def test_masked_lm_hides_the_answer() -> None:
    batch = next(iter(make_data("copy", fake_loaded("masked-lm")).train))
    ids, labels = batch["input_ids"], batch["labels"]
    assert (ids[:, 10:] == MASK).all() and (labels[:, 10:] >= N_SPECIAL).all()
    assert torch.equal(labels[:, 10:], batch["input_ids"][:, 1:9])  # the hidden answer is the question


def test_classifier_with_a_sequence_task_says_what_to_pass() -> None:
    with pytest.raises(ValueError, match=r"does classification. Use task 'majority'.*\(text, label\) pairs"):
        make_data("copy", fake_loaded("classification", num_labels=2))


def test_tasks_lists_the_expected_outcome_per_task() -> None:
    assert set(TASKS) == {"copy", "reverse", "sort", "modular_addition", "random", "majority"}
    assert all(isinstance(v, str) and "chance" in v for v in TASKS.values())


def test_majority_for_language_models_and_classifiers() -> None:
    lm = make_data("majority", fake_loaded())
    batch = next(iter(lm.train))
    ids, labels = batch["input_ids"], batch["labels"]
    counts = torch.nn.functional.one_hot(ids[:, 1:10] - N_SPECIAL, 4).sum(1)  # (B, 4)
    top = counts.topk(2, dim=1).values
    assert (top[:, 0] > top[:, 1]).all()  # never a tie
    assert torch.equal(labels[:, -1] - N_SPECIAL, counts.argmax(1)) and (labels[:, :-1] == -100).all()
    clf = make_data("majority", fake_loaded("classification", num_labels=3))
    batch = next(iter(clf.train))
    assert batch["labels"].shape == (32,) and batch["input_ids"].shape == (32, 10)
    counts = torch.nn.functional.one_hot(batch["input_ids"][:, 1:] - N_SPECIAL, 3).sum(1)
    assert torch.equal(batch["labels"], counts.argmax(1))
    assert clf.chance_accuracy == pytest.approx(1 / 3) and clf.kind == "classification"
    with pytest.raises(ValueError, match="≥ 2 classes"):
        make_data("majority", fake_loaded("classification", num_labels=1))
