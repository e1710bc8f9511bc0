"""``rdmf evaluate-submission``: output file, table, and clear errors (exit 2, nothing written)
on bad input."""

from __future__ import annotations

import json

import pytest

from rdmf.cli import main

GT = [
    {"qid": 1, "query": "a", "vid": "v1", "duration": 10, "relevant_windows": [[2, 6]],
     "relevant_clip_ids": [1, 2], "saliency_scores": [[4, 3, 2], [1, 2, 4]]},
    {"qid": 2, "query": "b", "vid": "v2", "duration": 8, "relevant_windows": [[0, 2], [4, 8]],
     "relevant_clip_ids": [0, 2, 3], "saliency_scores": [[2, 2, 2], [4, 4, 4], [0, 1, 2]]},
]
PRED = [
    {"qid": 1, "query": "a", "vid": "v1", "pred_relevant_windows": [[2, 6, 0.9], [0, 2, 0.5]],
     "pred_saliency_scores": [0.1, 0.9, 0.8, 0.0, 0.2]},
    {"qid": 2, "query": "b", "vid": "v2", "pred_relevant_windows": [[4, 8, 0.7], [0, 2, 0.8]],
     "pred_saliency_scores": [0.5, 0.1, 0.9, 0.2]},
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def run(tmp_path, pred_rows, gt_rows=GT, extra=()):
    pred = write_jsonl(tmp_path / "pred.jsonl", pred_rows)
    gt = write_jsonl(tmp_path / "gt.jsonl", gt_rows)
    out = tmp_path / "metrics.json"
    code = main(["evaluate-submission", str(pred), str(gt), "--out", str(out), *extra])
    return code, out


def test_writes_official_metrics(tmp_path, capsys):
    code, out = run(tmp_path, PRED)
    assert code == 0
    metrics = json.loads(out.read_text())
    assert metrics["brief"]["MR-full-R1@0.5"] == 100.0
    # qid 2: ranked [0,2] (0.8) then [4,8] (0.7): both TP -> AP 1 at every threshold
    assert metrics["brief"]["MR-full-mAP"] == 100.0
    assert list(metrics) == ["brief", "HL-min-Fair", "HL-min-Good", "HL-min-VeryGood", "full",
                             "long", "middle", "short"]
    assert "MR-full-mAP" in capsys.readouterr().out


def test_hd_only_and_mr_only(tmp_path):
    code, out = run(tmp_path, [{k: v for k, v in r.items() if k != "pred_relevant_windows"}
                               for r in PRED])
    assert code == 0 and set(json.loads(out.read_text())["brief"]) == {
        f"HL-min-{n}-{m}" for n in ("Fair", "Good", "VeryGood") for m in ("mAP", "Hit1")}
    code, out = run(tmp_path, [{k: v for k, v in r.items() if k != "pred_saliency_scores"}
                               for r in PRED])
    assert code == 0 and all(k.startswith("MR-") for k in json.loads(out.read_text())["brief"])


def _with(index, **fields):
    rows = [dict(r) for r in PRED]
    rows[index].update(fields)
    return rows


BAD = {
    "missing qid": ([PRED[0]], "first 2"),
    "extra qid": (PRED + [dict(PRED[0], qid=7)], "first 7"),
    "string qid": ([dict(PRED[0], qid="1"), PRED[1]], "first 1"),
    "duplicate": ([PRED[0], PRED[0]], "duplicate qid"),
    "no windows": (_with(1, pred_relevant_windows=[]), "line 2 (qid 2)"),
    "end < start": (_with(0, pred_relevant_windows=[[6, 2, 0.9]]), "ends before it starts"),
    "nan score": (_with(0, pred_relevant_windows=[[2, 6, float("nan")]]), "NaN score"),
    "two numbers": (_with(0, pred_relevant_windows=[[2, 6]]), "[start, end, score]"),
    "saliency length": (_with(0, pred_saliency_scores=[0.1] * 9), "has 9 scores"),
    "saliency nan": (_with(0, pred_saliency_scores=[float("nan")] * 5), "contains NaN"),
    "fields differ": ([PRED[0], {k: v for k, v in PRED[1].items()
                                 if k != "pred_saliency_scores"}], "fields differ"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_a_clear_error_and_writes_nothing(tmp_path, capsys, case):
    rows, message = BAD[case]
    code, out = run(tmp_path, rows)
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "pred.jsonl" in err
    assert not out.exists()


def test_malformed_line_names_file_and_line(tmp_path, capsys):
    pred = tmp_path / "pred.jsonl"
    pred.write_text(json.dumps(PRED[0]) + "\n{not json\n")
    gt = write_jsonl(tmp_path / "gt.jsonl", GT)
    out = tmp_path / "m.json"
    assert main(["evaluate-submission", str(pred), str(gt), "--out", str(out)]) == 2
    assert "pred.jsonl, line 2: malformed JSON" in capsys.readouterr().err
    assert not out.exists()


def test_ground_truth_without_saliency_is_named(tmp_path, capsys):
    gt = [{k: v for k, v in g.items() if k not in ("relevant_clip_ids", "saliency_scores")}
          for g in GT]
    code, _ = run(tmp_path, PRED, gt)
    assert code == 2 and "gt.jsonl, line 1 (qid 1)" in capsys.readouterr().err


def test_existing_output_is_untouched_on_error(tmp_path):
    out = tmp_path / "metrics.json"
    out.write_text("previous")
    code, _ = run(tmp_path, [PRED[0]])
    assert code == 2 and out.read_text() == "previous"


def test_saliency_tolerance_option(tmp_path):
    rows = _with(0, pred_saliency_scores=[0.1] * 9)
    assert run(tmp_path, rows, extra=["--saliency-tolerance", "4"])[0] == 0


def test_python_api_accepts_tuples_and_arrays():
    import numpy as np

    from rdmf.eval import evaluate_qvhighlights
    rows = [{"qid": np.int64(r["qid"]),
             "pred_relevant_windows": np.array(r["pred_relevant_windows"], dtype=np.float32),
             "pred_saliency_scores": tuple(r["pred_saliency_scores"])} for r in PRED]
    as_arrays = evaluate_qvhighlights(rows, GT)
    assert as_arrays["brief"] == evaluate_qvhighlights(PRED, GT)["brief"]


def test_python_api_errors_name_the_row():
    from rdmf.eval import evaluate_qvhighlights
    with pytest.raises(ValueError, match=r"submission, row 2 \(qid 2\).*ends before"):
        evaluate_qvhighlights(_with(1, pred_relevant_windows=[[8, 4, 0.5]]), GT)
