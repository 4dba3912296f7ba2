"""The refusal calibrator's choice rule, on hand-made support features (no store needed)."""
from eval.calibrate_refusal import best_thresholds


def row(answerable, cov, dense, hard=False, agreeing=2):
    return ("en", answerable, cov, dense, f"q{cov}{dense}", hard, agreeing)


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


def test_disagreeing_rankings_raise_the_coverage_asked_only_as_far_as_the_budget_allows():
    from eval.calibrate_refusal import best_disagreeing
    answerable = [row(True, 0.5 + i / 100, 0.90) for i in range(30)]
    rows = answerable + [row(True, 0.32, 0.86, agreeing=1), row(False, 0.10, 0.86, agreeing=1),
                         row(False, 0.25, 0.87, agreeing=1), row(False, 0.20, 0.87, agreeing=2)]
    bar = best_disagreeing(rows, min_cov=0.45, min_dense=0.85)
    # Both disagreeing off-topic questions refused, the disagreeing answerable one kept.
    assert 0.25 < bar <= 0.32


def test_agreement_is_asked_only_below_the_bar_and_only_then(monkeypatch):
    from service.qa.support import Threshold, is_supported
    from service.qa.understand import Query
    query = Query(language="en")
    ranked = [("1/QĐ-X#1", 1.0, {"overlap": 0.2, "dense": 0.86})]
    thresholds = {"en": Threshold(min_coverage=0.45, min_dense=0.85, min_coverage_disagreeing=0.275)}
    asked = []

    def agreement(value):
        return lambda: asked.append(value) or value
    assert not is_supported(query, ranked, thresholds, agreement(1))
    assert is_supported(query, ranked, thresholds, agreement(2))
    high = [("1/QĐ-X#1", 1.0, {"overlap": 0.3, "dense": 0.86})]
    assert is_supported(query, high, thresholds, agreement(0))
    assert asked == [1, 2]                    # not asked where coverage clears the bar
