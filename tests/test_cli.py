"""The command line: list shows every profile; missing data ends every command in one line, exit 2."""
import pytest

from ibcore import cli, experiments


def test_list_shows_the_gpu_profile_of_every_experiment(capsys):
    assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sorted(line.split()[0] for line in lines) == experiments.names()
    assert all(line.endswith("[profiles: quick, cpu, gpu, full]") for line in lines)


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    """An empty data root and no downloads."""
    from ibcore.data import cifar_pickle, mnist_idx

    def offline(root):
        raise ImportError("no torchvision in this test")

    monkeypatch.setattr(mnist_idx, "_download", offline)
    monkeypatch.setattr(cifar_pickle, "_download", offline)
    monkeypatch.setenv("IBCORE_DATA", str(tmp_path / "empty"))
    return tmp_path / "empty"


@pytest.mark.parametrize("args", [
    ["run", "mnist-mlp", "--quiet"],
    ["run", "cifar-filters", "--quiet"],
    ["run-all", "--profile", "quick", "--only", "activation-priors", "--quiet"],
    ["verify", "mnist-mlp"],
])
def test_missing_data_is_one_line_and_exit_two(no_data, args, capsys):
    assert cli.main(args) == 2
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1 and "Traceback" not in captured.err
    assert str(no_data) in captured.err and "missing" in captured.err


def test_show_prints_a_committed_result_without_data(no_data, capsys):
    assert cli.main(["show", "mnist-mlp"]) == 0
    out = capsys.readouterr().out
    assert "mnist-mlp · cpu profile" in out and "information" in out and "source hash" in out
    assert cli.main(["show", "mnist-mlp", "--profile", "full"]) == 2
    assert "no committed result of mnist-mlp (full)" in capsys.readouterr().err


def test_unknown_names_and_settings_are_usage_errors(capsys):
    for args in (["run", "nope"], ["show", "nope"], ["run", "mnist-mlp", "--set", "widht=3"]):
        with pytest.raises(SystemExit) as err:
            cli.main(args)
        assert err.value.code == 2
    assert "has no setting 'widht'" in capsys.readouterr().err


@pytest.mark.parametrize("args, said", [
    (["run", "mnist-mlp", "--set", "epochs=-1"], "epochs must be an integer >= 1, got -1"),
    (["run", "mnist-mlp", "--set", "widht=3"], "has no setting 'widht'"),
    (["show", "nope"], "unknown experiment 'nope'"),
])
def test_an_error_about_a_commands_arguments_prints_that_commands_usage(no_data, args, said, capsys):
    """Issue 25 item 6: ``run … --set epochs=-1`` printed the top-level usage line, not ``run``'s."""
    with pytest.raises(SystemExit) as err:
        cli.main(args)
    assert err.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(f"usage: python -m ibcore {args[0]} ")
    assert lines[-1] == f"python -m ibcore {args[0]}: error: {lines[-1].split(': error: ')[1]}"
    assert said in lines[-1]


def test_show_prints_a_dash_for_the_sd_of_one_seed_and_1_thread(no_data, capsys):
    """Issue 25 item 6: the sd of one seed printed as NaN, and the device as "cpu (1 threads)"."""
    assert cli.main(["show", "cluttered-mnist"]) == 0  # one seed per β, computed on 1 thread
    out = capsys.readouterr().out
    assert "NaN" not in out and "– in test_error_sd: one seed, no spread" in out
    assert "cpu (1 thread)" in out and "1 threads" not in out


def test_table_text_names_the_sd_columns_of_one_seed() -> None:
    import pandas as pd

    table = pd.DataFrame({"test_error_pct": [6.3, 7.0], "test_error_sd": [float("nan"), 0.2], "beta": [0.1, None]})
    rows = cli.table_text(table).splitlines()
    assert rows[1].split() == ["0", "6.3", "–", "0.1"] and rows[2].split() == ["1", "7.0", "0.2", "–"]
    assert rows[-1] == "– in test_error_sd: one seed, no spread"
    assert cli.table_text(table.drop(columns="test_error_sd")).count("\n") == 2  # no note without an sd column
