"""The refusal calibrator's choice rule, on hand-made support features (no store needed)."""
from eval.calibrate_refusal import best_thresholds


def row(answerable, cov, dense, hard=False):
    return ("en", answerable, cov, dense, f"q{cov}{dense}", hard)


def decide(cov, dense, min_cov, min_dense):
    return cov >= min_cov or dense >= min_dense


def test_a_gates_unanswerable_questions_stay_refused_even_at_a_cost():
    rows = [row(True, 0.2, 0.84), row(True, 0.3, 0.85), row(True, 0.6, 0.88),
            row(False, 0.35, 0.845, hard=True), row(False, 0.1, 0.83)]
    _, min_cov, min_dense = best_thresholds(rows)
    assert not decide(0.35, 0.845, min_cov, min_dense)          # the hard refusal holds
    assert decide(0.6, 0.88, min_cov, min_dense)


def test_fewest_wrong_decisions_within_the_false_refusal_budget():
    answerable = [row(True, 0.5 + i / 100, 0.90) for i in range(30)]
    rows = answerable + [row(False, 0.1, 0.84), row(False, 0.15, 0.85)]
    (_, neg_errors, _), min_cov, min_dense = best_thresholds(rows)
    assert neg_errors == 0
    assert all(decide(r[2], r[3], min_cov, min_dense) for r in answerable)
    assert not decide(0.1, 0.84, min_cov, min_dense) and not decide(0.15, 0.85, min_cov, min_dense)
