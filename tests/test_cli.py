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
