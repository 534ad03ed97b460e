"""What a training script does with MLflow, unchanged, against the tracking
server named by MLFLOW_TRACKING_URI (and MLFLOW_TRACKING_TOKEN).

compat_test.go runs it against Trellis and against MLflow's own server from
the same client bundle and compares the reports: one JSON object written to
the file REPORT_FILE names, holding what the client read back, with run ids,
experiment ids and times left out (runs are named by their run names), so
that the two servers' reports are equal when they behave alike.
"""

import hashlib
import json
import os
import sys
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mlflow  # noqa: E402
import mlflow.data  # noqa: E402
import pandas as pd  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import ViewType  # noqa: E402

EXPERIMENT = "compat-python"
report = {}


def files(infos):
    return [[f.path, f.is_dir, f.file_size] for f in infos]


def tree(root):
    """Every file under root with the sha256 of its bytes."""
    out = {}
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = hashlib.sha256(fh.read()).hexdigest()[:16]
    return dict(sorted(out.items()))


def check(what, ok):
    if not ok:
        print(f"train.py: {what}", file=sys.stderr)
        report.setdefault("failed_checks", []).append(what)


client = MlflowClient()
mlflow.set_experiment(EXPERIMENT)
work = tempfile.mkdtemp()

with mlflow.start_run(run_name="train") as run:
    rid = run.info.run_id
    mlflow.log_params({"lr": 0.01, "epochs": 5, "model": "tree"})
    for step in range(5):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.5 + step * 0.1, "f1": 0.4 + step * 0.05}, step=step)
    mlflow.set_tags({"team": "balloons", "stage": "dev"})

    # Artifacts: a file, at the root and in a folder; a folder; dict, text,
    # figure and table (logged twice: the second call downloads and appends).
    notes = os.path.join(work, "notes.txt")
    with open(notes, "w") as fh:
        fh.write("trained on balloons v3\n")
    model = os.path.join(work, "model")
    os.makedirs(os.path.join(model, "config"))
    with open(os.path.join(model, "weights.bin"), "wb") as fh:
        fh.write(bytes(range(256)) * 4)
    with open(os.path.join(model, "config", "params.json"), "w") as fh:
        json.dump({"depth": 3}, fh)
    with open(os.path.join(model, "config", "empty.txt"), "w"):
        pass
    mlflow.log_artifact(notes)
    mlflow.log_artifact(notes, artifact_path="docs")
    mlflow.log_artifacts(model, artifact_path="model")
    mlflow.log_dict({"classes": ["balloon", "kite"], "threshold": 0.5}, "eval/config.json")
    mlflow.log_text("recall 0.81\n", "eval/summary.txt")
    fig, ax = plt.subplots(figsize=(3, 2), dpi=50)
    ax.plot([0, 1, 2, 3, 4], [1.0, 0.5, 0.33, 0.25, 0.2])
    mlflow.log_figure(fig, "plots/loss.png")
    plt.close(fig)
    preds = pd.DataFrame({"image": ["a.png", "b.png"], "label": ["balloon", "kite"], "score": [0.9, 0.4]})
    mlflow.log_table(preds, "eval/predictions.json")
    mlflow.log_table(preds.assign(score=[0.8, 0.3]), "eval/predictions.json")

    # A dataset input.
    df = pd.DataFrame({"width": [1.0, 2.0, 3.0], "height": [2.0, 1.0, 0.5], "label": ["balloon", "kite", "balloon"]})
    mlflow.log_input(mlflow.data.from_pandas(df, name="balloons", targets="label"), context="training")

    # Nested runs.
    for i in range(2):
        with mlflow.start_run(run_name=f"fold-{i}", nested=True):
            mlflow.log_param("fold", i)
            mlflow.log_metric("loss", 0.5 - i * 0.1)

names = {rid: "train"}
exp = client.get_experiment_by_name(EXPERIMENT)
children = client.search_runs([exp.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{rid}'", order_by=["attributes.run_name ASC"])
for c in children:
    names[c.info.run_id] = c.info.run_name

# Listing and downloading, at the root and by sub-path.
listings = {}
for p in [None, "model", "model/config", "eval", "plots", "notes.txt", "missing"]:
    listings[p or "."] = files(client.list_artifacts(rid, p))
report["list_artifacts"] = listings
check("list_artifacts at the root names the top entries", [f[0] for f in listings["."]][:2] == ["docs", "eval"])
report["artifacts.list_artifacts runs:/"] = files(mlflow.artifacts.list_artifacts(artifact_uri=f"runs:/{rid}/model"))
dl = client.download_artifacts(rid, "model", tempfile.mkdtemp())
report["download model"] = tree(dl)
dl = mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="eval", dst_path=tempfile.mkdtemp())
report["download eval"] = tree(dl)
report["load_dict"] = mlflow.artifacts.load_dict(f"runs:/{rid}/eval/config.json")
report["load_text"] = mlflow.artifacts.load_text(f"runs:/{rid}/eval/summary.txt")
report["table"] = json.loads(mlflow.artifacts.load_text(f"runs:/{rid}/eval/predictions.json"))

# The run as the client reads it back.
r = client.get_run(rid)
report["params"] = r.data.params
report["metrics"] = r.data.metrics
report["user tags"] = {k: v for k, v in r.data.tags.items() if not k.startswith("mlflow.")}
report["mlflow tags"] = sorted(k for k in r.data.tags if k.startswith("mlflow."))
report["logged artifacts tag"] = json.loads(r.data.tags.get("mlflow.loggedArtifacts", "[]"))
report["status"] = [r.info.status, r.info.lifecycle_stage, r.info.run_name]
report["history loss"] = [[m.step, m.value] for m in client.get_metric_history(rid, "loss")]
report["inputs"] = [
    {"name": d.dataset.name, "digest": d.dataset.digest, "source_type": d.dataset.source_type,
     "schema": json.loads(d.dataset.schema), "profile": json.loads(d.dataset.profile),
     "tags": {t.key: t.value for t in d.tags}}
    for d in r.inputs.dataset_inputs
]
report["children"] = [[c.info.run_name, names.get(c.data.tags.get("mlflow.parentRunId")), c.data.params, c.data.metrics] for c in children]

# search_runs to pandas.
frame = mlflow.search_runs(experiment_names=[EXPERIMENT], order_by=["attributes.run_name ASC"])
report["search_runs columns"] = sorted(c for c in frame.columns if c not in ("run_id", "experiment_id", "start_time", "end_time", "artifact_uri"))
keep = ["tags.mlflow.runName", "status", "params.lr", "params.fold", "metrics.loss", "metrics.acc"]
report["search_runs rows"] = json.loads(frame[keep].to_json(orient="records"))
report["search_runs dtypes"] = {c: str(frame[c].dtype) for c in keep + ["start_time"]}
report["search_runs parents"] = sorted(names.get(v) or "" for v in frame.get("tags.mlflow.parentRunId", pd.Series(dtype=str)).fillna(""))

# Delete and restore a child.
fold0 = children[0].info.run_id
client.delete_run(fold0)
report["after delete"] = [
    client.get_run(fold0).info.lifecycle_stage,
    sorted(x.info.run_name for x in client.search_runs([exp.experiment_id])),
    sorted(x.info.run_name for x in client.search_runs([exp.experiment_id], run_view_type=ViewType.DELETED_ONLY)),
    len(mlflow.search_runs(experiment_names=[EXPERIMENT], run_view_type=ViewType.ALL)),
]
client.restore_run(fold0)
report["after restore"] = [client.get_run(fold0).info.lifecycle_stage, len(client.search_runs([exp.experiment_id]))]

with open(os.environ["REPORT_FILE"], "w") as fh:
    json.dump(report, fh, indent=1, sort_keys=True, default=str)
print(f"train.py: {len(report)} observations written to {os.environ['REPORT_FILE']}")
