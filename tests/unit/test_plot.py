from pathlib import Path

import pytest

from bertlab.plot import plot, read_curves, run_label, summary_table


def _job(root: Path, name: str, overrides: list[str], rows: list[str]) -> None:
    (root / name / "csv").mkdir(parents=True)
    (root / name / "csv" / "metrics.csv").write_text(
        "epoch,step,train/loss,val/loss\n" + "\n".join(rows) + "\n"
    )
    (root / name / ".hydra").mkdir(exist_ok=True)
    (root / name / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))


def test_sweep_gives_one_figure_per_metric_with_one_line_per_job(tmp_path):
    _job(tmp_path, "0", ["seed=1"], ["0,0,10.0,", "0,1,9.0,", "0,1,,8.5"])
    _job(tmp_path, "1", ["seed=2"], ["0,0,10.5,", "0,1,9.5,", "0,1,,8.9"])
    assert read_curves(tmp_path / "0" / "csv" / "metrics.csv") == {
        "train/loss": [(0, 10.0), (1, 9.0)],
        "val/loss": [(1, 8.5)],
    }
    assert run_label(tmp_path / "1", tmp_path) == "seed=2"
    written = plot(tmp_path, None, tmp_path / "out")
    assert sorted(p.name for p in written) == ["train_loss.png", "val_loss.png"]
    assert all(p.stat().st_size > 1000 for p in written)


def test_no_logs_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no csv/metrics.csv"):
        plot(tmp_path, None, None)


def test_summary_table_has_last_and_best_per_job(tmp_path):
    _job(tmp_path, "0", ["data.masking=static", "export=false"], ["0,0,10.0,", "0,1,,8.5", "0,2,,8.7"])
    _job(tmp_path, "1", ["data.masking=dynamic", "export=False"], ["0,0,10.5,", "0,1,,8.9", "0,2,,8.2"])
    table = summary_table(tmp_path, ["val/loss", "val/mcc"]).splitlines()
    assert table[0] == "| run | val/loss last | val/loss best (step) | val/mcc last | val/mcc best (step) |"
    assert table[2] == "| data.masking=static | 8.7 | 8.5 (1) | – | – |"
    # the shared override is left out, also when a multirun recorded it as a capitalised boolean
    assert table[3] == "| data.masking=dynamic | 8.2 | 8.2 (2) | – | – |"


def test_summary_table_median_row_over_seeds(tmp_path):
    _job(tmp_path, "0", ["seed=1"], ["0,0,10.0,", "0,1,,8.5"])
    _job(tmp_path, "1", ["seed=2"], ["0,0,10.5,", "0,1,,8.9", "0,2,,8.0"])
    _job(tmp_path, "2", ["seed=3"], ["0,0,10.5,", "0,1,,7.0", "0,2,,9.0"])
    table = summary_table(tmp_path, ["val/loss"], median=True).splitlines()
    assert table[-1] == "| median of 3 | 8.5 | 8 |"  # last values 8.5, 8.0, 9.0; best 8.5, 8.0, 7.0
    assert "median" not in summary_table(tmp_path, ["val/loss"])
