"""Benchmark config: valid files parse and expand into the right tasks; invalid ones fail before
any work with a message naming the field, the value and what is allowed (one test per kind)."""

import copy
import subprocess
import sys
from pathlib import Path

import pytest

from skcausal_meta.metrics import GRAPH_METRICS
from skcausal_meta.models.registry import get_estimator_class, list_estimators, register_estimator
from skcausal_meta.pipeline import ConfigError, load_config
from skcausal_meta.pipeline.scoring import LOWER_IS_BETTER, METRICS, NO_DIRECTION
from skcausal_meta.pipeline.tasks import expand_tasks

REPO = Path(__file__).resolve().parents[1]

BASE = {
    "name": "t",
    "data": {"n_datasets": 2, "n_nodes": 4, "n_samples": 30, "n_interventional": 8},
    "families": ["id", {"name": "ood_nodes_small", "n_nodes": 3}],
    "models": [{"name": "dibs", "params": {"n_particles": 3}, "grid": {"n_steps": [10, 20], "preset": ["marginal"]}}],
    "metrics": ["e_shd", "nil"],
}


def with_changes(**changes):
    config = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        node = config
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(leaf)] = value
        else:
            node[leaf] = value
    return config


def test_valid_config_expands_family_dataset_model_params():
    config = load_config(BASE)
    tasks = expand_tasks(config)
    assert len(tasks) == 2 * 2 * 2  # families x data sets x grid points
    assert len({t.run_id for t in tasks}) == len(tasks)
    assert {t.params["n_steps"] for t in tasks} == {10, 20}
    assert all(t.params["n_particles"] == 3 and isinstance(t.params["random_state"], int) for t in tasks)
    small = [t for t in tasks if t.family == "ood_nodes_small"]
    assert {t.data_spec["n_nodes"] for t in small} == {3}  # per-family override of data.n_nodes
    # same data set -> same seed for every model; another data set -> another seed
    seeds = {(t.family, t.dataset): t.params["random_state"] for t in tasks}
    assert len(set(seeds.values())) == len(seeds)


def test_run_ids_are_stable_and_follow_content():
    first = [t.run_id for t in expand_tasks(load_config(BASE))]
    assert first == [t.run_id for t in expand_tasks(load_config(copy.deepcopy(BASE)))]
    changed = [t.run_id for t in expand_tasks(load_config(with_changes(data__n_samples=31)))]
    assert not set(first) & set(changed)


def test_yaml_file_and_inline_family(tmp_path):
    path = tmp_path / "c.yml"
    path.write_text(
        "name: inline\n"
        "families:\n"
        "  - name: my_linear\n"
        "    definition: {graph: {type: er, edges_per_node: 1.0}, mechanism: linear, n_nodes: 4}\n"
        "models: [{name: dibs}]\n"
    )
    config = load_config(path)
    assert config.families[0].family().name == "my_linear"
    assert config.run_dir == Path("runs") / "inline"
    tasks = expand_tasks(config)
    assert tasks[0].family_definition["n_nodes"] == 4


def test_unknown_family():
    with pytest.raises(ConfigError, match=r"families\.1.*unknown family 'ood_nope'.*registered families: \[.*'id'"):
        load_config(with_changes(families__1="ood_nope"))


def test_unknown_model():
    with pytest.raises(ConfigError, match=r"models\.0\.name.*unknown model 'no_such_model'.*registered models: \['dibs'"):
        load_config(with_changes(models__0__name="no_such_model"))


def test_unknown_model_parameter_lists_the_models_parameters():
    allowed = sorted(get_estimator_class("dibs")().get_params())
    with pytest.raises(ConfigError) as info:
        load_config(with_changes(models__0__params={"n_particle": 3}))
    message = str(info.value)
    assert "unknown parameters ['n_particle'] in params of model 'dibs'" in message
    assert str(allowed) in message


def test_unknown_grid_parameter():
    with pytest.raises(ConfigError, match=r"unknown parameters \['steps'\] in grid of model 'dibs'; its parameters are \["):
        load_config(with_changes(models__0__grid={"steps": [1]}))


@pytest.mark.parametrize("model, where", [("avici", "params"), ("bcnp", "params"), ("random_dag", "params"),
                                          ("avici", "grid")])
def test_old_spelling_n_samples_of_the_graph_count_names_model_and_new_key(model, where):
    entry = {"name": model, where: {"n_samples": [100] if where == "grid" else 100}}
    with pytest.raises(ConfigError) as info:
        load_config(with_changes(models=[entry]))
    message = str(info.value)
    assert (f"models.0: {where} key 'n_samples' of model '{model}' was renamed to 'n_graphs' "
            "(the number of posterior graphs; n_samples now only counts rows of data") in message
    assert "write 'n_graphs' instead of 'n_samples'" in message
    # the new spelling loads; a model without n_graphs still gets the plain unknown-parameter error
    load_config(with_changes(models=[{"name": model, where: {"n_graphs": [100] if where == "grid" else 100}}]))
    with pytest.raises(ConfigError, match=r"unknown parameters \['n_samples'\] in params of model 'dibs'"):
        load_config(with_changes(models=[{"name": "dibs", "params": {"n_samples": 100}}]))


def test_bad_parameter_values_are_refused_when_the_config_loads():
    # each parameter set (fixed params updated by every grid point) passes the estimator's table
    with pytest.raises(ConfigError, match=r"models\.0: model 'dibs' with \{'n_steps': 0\}: The 'n_steps' parameter "
                                          r"of DibsEstimator must be .* Got 0 instead"):
        load_config(with_changes(models=[{"name": "dibs", "params": {"n_steps": 0}}]))
    with pytest.raises(ConfigError, match=r"model 'bayesdag' with \{'n_chains': 2, 'burn_in': 1\.5\}: "
                                          r"The 'burn_in' parameter of BayesDAGEstimator"):
        load_config(with_changes(models=[{"name": "bayesdag", "params": {"n_chains": 2},
                                          "grid": {"burn_in": [0.5, 1.5]}}]))
    load_config(with_changes(models=[{"name": "bayesdag", "params": {"n_chains": 2}, "grid": {"burn_in": [0.2, 0.5]}}]))


def test_wrong_type():
    with pytest.raises(ConfigError, match=r"runtime\.n_jobs: Input should be a valid integer.*got 'two'"):
        load_config(with_changes(runtime={"n_jobs": "two"}))


def test_negative_size():
    with pytest.raises(ConfigError, match=r"data\.n_samples: Input should be greater than or equal to 1 \(got -5\)"):
        load_config(with_changes(data__n_samples=-5))


def test_grid_expanding_to_zero_tasks():
    with pytest.raises(ConfigError, match=r"models\.0: grid parameters \['n_steps'\] of model 'dibs' have no values, "
                                          r"so the grid expands to zero tasks"):
        load_config(with_changes(models__0__grid={"n_steps": [], "preset": ["marginal"]}))
    with pytest.raises(ConfigError, match=r"the grid expands to zero tasks \(0 families x 2 data sets"):
        load_config(with_changes(families=[]))


def test_unknown_top_level_key_and_metric():
    with pytest.raises(ConfigError, match=r"datasets: Extra inputs are not permitted"):
        load_config(with_changes(datasets={}))
    with pytest.raises(ConfigError, match=r"metrics\.0: Input should be 'e_shd', 'e_sid'"):
        load_config(with_changes(metrics=["shd"]))


def test_dask_backend_needs_an_address():
    with pytest.raises(ConfigError, match=r"runtime: backend 'dask' needs 'address'"):
        load_config(with_changes(runtime={"backend": "dask"}))


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_cli_fails_before_any_work(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("name: bad\nfamilies: [id]\nmodels: [{name: dibs, params: {n_particle: 3}}]\n")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "run.py"), str(path), "--output-dir", str(out)],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 2
    assert "models.0" in proc.stderr and "n_particle" in proc.stderr
    assert not out.exists()


def test_registering_an_estimator_is_one_call():
    register_estimator("dibs_alias", "skcausal_meta.models.dibs:DibsEstimator")
    try:
        assert "dibs_alias" in list_estimators()
        config = load_config(with_changes(models__0__name="dibs_alias"))
        assert expand_tasks(config)[0].estimator == "dibs_alias"
        with pytest.raises(ValueError, match="already registered"):
            register_estimator("dibs_alias", "x:Y")
    finally:
        from skcausal_meta.models.registry import ESTIMATORS

        ESTIMATORS.pop("dibs_alias")


def test_registry_classes_exist():
    for name in list_estimators():
        cls = get_estimator_class(name)
        assert "random_state" in cls().get_params(), name


def test_shipped_benchmark_configs():
    from skcausal_meta.datasets import SHIFT_AXES, get_family

    quick = load_config(REPO / "benchmarks" / "quick.yml")
    assert len(expand_tasks(quick)) <= 24  # 24 tiny tasks ran in 24 s on 2 cores (goal: < 2 min)
    ood = load_config(REPO / "benchmarks" / "ood.yml")
    names = [f.name for f in ood.families if not f.is_real]
    assert names[0] == "id" and len(names) >= 9
    assert {axis for name in names for axis in get_family(name).shift} == set(SHIFT_AXES)
    assert [f.name for f in ood.families if f.is_real] == ["sachs"]
    assert {m.name for m in ood.models} == set(list_estimators())
    assert ood.data.n_datasets == 5 and ood.data.n_nodes == 10
    assert {"e_shd", "edge_auroc", "edge_auprc", "nil", "i_nil", "graph_entropy", "time"} <= set(ood.metrics)
    assert {"skeleton_auroc", "e_cpdag_shd", "e_orientation_accuracy"} <= set(ood.metrics)


def test_config_accepts_every_registered_metric_and_only_those():
    assert set(GRAPH_METRICS) < set(METRICS)  # the CPDAG metrics included
    assert load_config(with_changes(metrics=list(METRICS))).metrics == list(METRICS)
    with pytest.raises(ConfigError, match=r"metrics\.1: Input should be .*'e_cpdag_shd'"):
        load_config(with_changes(metrics=["e_cpdag_shd", "cpdag_shd"]))


def test_metric_directions_come_from_one_registry():
    # the scorers' registry decides the graph metrics' direction; the pipeline adds the others
    assert {name for name, (_, greater) in GRAPH_METRICS.items() if not greater} == {
        "e_shd", "e_sid", "edge_ece", "e_cpdag_shd"}
    assert LOWER_IS_BETTER == {"e_shd", "e_sid", "edge_ece", "e_cpdag_shd", "nil", "i_nil", "time"}
    assert NO_DIRECTION == {"graph_entropy", "edge_entropy"}
    assert all(METRICS[name].greater_is_better is greater for name, (_, greater) in GRAPH_METRICS.items())


def test_real_family_expands_into_seeded_splits():
    config = load_config(with_changes(families=["id", {"name": "sachs", "n_samples": 100}]))
    tasks = [t for t in expand_tasks(config) if t.family == "sachs"]
    assert len(tasks) == 2 * 2 and {t.shift for t in tasks} == {("real",)}
    assert tasks[0].data_spec == {"real": "sachs", "options": {"graph": "17", "log_transform": False},
                                  "n_samples": 100, "n_interventional": 8, "n_test": 200,
                                  "n_test_interventional": 200, "seed": 0}
    assert len({t.params["random_state"] for t in tasks}) == 2  # one seed per data set, shared by models
    other_graph = load_config(with_changes(families=["id", {"name": "sachs", "n_samples": 100,
                                                            "options": {"graph": "20"}}]))
    assert not {t.run_id for t in tasks} & {t.run_id for t in expand_tasks(other_graph)}
    # None training sizes: every row that is not held out
    everything = load_config({**BASE, "data": {"n_datasets": 1}, "families": ["sachs"]})
    assert everything.real_sizes(everything.families[0]).n_samples == 1755 - 200
    assert everything.real_sizes(everything.families[0]).n_interventional == 5711 - 200


@pytest.mark.parametrize("entry, message", [
    ({"name": "sachs", "n_nodes": 5}, r"families\.1: family 'sachs' is a real data set with fixed nodes; "
                                      r"it takes no \['n_nodes'\]"),
    ({"name": "sachs", "definition": {"mechanism": "linear"}}, r"it takes no \['definition'\]"),
    ({"name": "sachs", "options": {"graf": "20"}}, r"families\.1: unknown options \['graf'\] of real family "
                                                    r"'sachs'; its options are \['graph', 'log_transform'\]"),
    ({"name": "sachs", "options": {"graph": "19"}}, r"families\.1: graph must be one of \['17', '18', '20'\], got '19'"),
    ({"name": "id", "options": {"graph": "20"}}, r"'options' apply only to real families \['sachs'\], not to 'id'"),
    ({"name": "sachs", "n_samples": 1600}, r"families\.1 \(sachs\): n_test=200 held-out plus n_samples=1600 "
                                           r"training rows exceed the 1755 observational rows of 'sachs'"),
    ("sachz", r"unknown family 'sachz'; registered families: \[.*\], real families: \['sachs'\]"),
    ({"name": "sachs", "options": {"graph": [17]}}, r"families\.1: option 'graph' of real family 'sachs' must be "
                                                     r"a single value .*got \[17\]"),
])
def test_bad_real_family(entry, message):
    with pytest.raises(ConfigError, match=message):
        load_config(with_changes(families__1=entry))


def test_a_registered_scm_family_named_like_a_real_data_set_is_refused():
    from skcausal_meta.datasets import SCMFamily, register_family
    from skcausal_meta.datasets.families import _REGISTRY

    register_family(SCMFamily(name="sachs"))
    try:
        with pytest.raises(ConfigError, match="'sachs' is both a real data set and a registered SCM family"):
            load_config(with_changes(families__1="sachs"))
    finally:
        del _REGISTRY["sachs"]


@pytest.mark.parametrize("definition, match", [
    ({"name": "b", "n_nodes": 4}, "must not have another 'name' \\(got 'b'\\)"),
    ({"interventions": "single", "n_nodes": 4}, "interventions must be a mapping"),
])
def test_inline_definitions_that_would_fail_at_run_time_are_config_errors(definition, match):
    with pytest.raises(ConfigError, match=match):
        load_config(with_changes(families=[{"name": "a", "definition": definition}]))


def test_an_inline_definition_may_repeat_its_own_name():
    """As pasted from ``SCMFamily.to_dict()``."""
    config = load_config(with_changes(families=[{"name": "a", "definition": {"name": "a", "n_nodes": 4}}]))
    assert config.families[0].family().name == "a" and "name" not in config.families[0].definition


def test_a_corrupt_task_list_is_named(tmp_path):
    from skcausal_meta.pipeline.artifacts import iter_artifacts

    (tmp_path / "tasks.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"tasks\.json' is not a JSON list of run ids"):
        list(iter_artifacts(tmp_path))
