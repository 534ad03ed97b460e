// Drives a live Trellis server with the third-party MLflow client for
// Node.js (npm package `mlflow`, pinned in package-lock.json) through every
// call that client implements correctly, asserting the values that come back.
//
// Environment (set by compat_test.go):
//   MLFLOW_TRACKING_URI    http://HOST:PORT/p/KEY (a project's MLflow mount)
//   MLFLOW_TRACKING_TOKEN  a write-scoped Trellis API token
//
// Calls left out because the client does not speak MLflow's documented
// protocol for them:
//   - Experiments.setExperimentTag posts to ".../experimentsset-experiment-tag"
//     (the client drops the slash before the path), an endpoint no MLflow
//     server has.
//   - Experiments.list calls GET experiments/list, which MLflow 2.0 removed
//     in favour of experiments/search (the client has no search call).
// The client also sends `run_uuid` beside `run_id` (MLflow 1.x's name for
// the same field); Trellis, like MLflow, ignores it.
import test from 'node:test';
import assert from 'node:assert/strict';
import MLflow from 'mlflow';

const endpoint = process.env.MLFLOW_TRACKING_URI;
const token = process.env.MLFLOW_TRACKING_TOKEN;
if (!endpoint || !token) {
  throw new Error('MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN must be set (compat_test.go sets them)');
}

const client = new MLflow({ endpoint, headers: { Authorization: `Bearer ${token}` } });
const { Experiments, Runs, Metrics, Artifacts } = client;

// failure pulls the HTTP status and body out of the client's error, which is an Error
// whose message is the JSON of {status, statusText, data}.
function failure(err) {
  return JSON.parse(err.message.replace(/^Error: /, ''));
}

// tagMap turns MLflow's [{key, value}] lists into an object.
const tagMap = (list = []) => Object.fromEntries(list.map((t) => [t.key, t.value]));

test('mlflow npm client against Trellis', async (t) => {
  const stamp = Date.now();
  const expName = `js-compat-${stamp}`;
  let experimentId;
  let runId;
  let otherRunId;
  const startTime = stamp - 60_000;

  await t.test('experiments: create and get', async () => {
    const created = await Experiments.create({ name: expName });
    assert.equal(typeof created.experiment_id, 'string');
    assert.notEqual(created.experiment_id, '');
    experimentId = created.experiment_id;

    const { experiment } = await Experiments.get({ experiment_id: experimentId });
    assert.equal(experiment.experiment_id, experimentId);
    assert.equal(experiment.name, expName);
    assert.equal(experiment.lifecycle_stage, 'active');
    assert.match(experiment.artifact_location, /\S/);
  });

  await t.test('experiments: a duplicate name is RESOURCE_ALREADY_EXISTS', async () => {
    await assert.rejects(Experiments.create({ name: expName }), (err) => {
      const f = failure(err);
      assert.equal(f.status, 400);
      assert.equal(f.data.error_code, 'RESOURCE_ALREADY_EXISTS');
      return true;
    });
  });

  await t.test('experiments: update renames', async () => {
    const renamed = `${expName}-renamed`;
    assert.deepEqual(await Experiments.update({ experiment_id: experimentId, new_name: renamed }), {});
    const { experiment } = await Experiments.get({ experiment_id: experimentId });
    assert.equal(experiment.name, renamed);
  });

  await t.test('experiments: delete and restore', async () => {
    assert.deepEqual(await Experiments.delete({ experiment_id: experimentId }), {});
    let { experiment } = await Experiments.get({ experiment_id: experimentId });
    assert.equal(experiment.lifecycle_stage, 'deleted');
    assert.deepEqual(await Experiments.restore({ experiment_id: experimentId }), {});
    ({ experiment } = await Experiments.get({ experiment_id: experimentId }));
    assert.equal(experiment.lifecycle_stage, 'active');
  });

  await t.test('experiments: an unknown id is RESOURCE_DOES_NOT_EXIST', async () => {
    await assert.rejects(Experiments.get({ experiment_id: '987654321' }), (err) => {
      const f = failure(err);
      assert.equal(f.status, 404);
      assert.equal(f.data.error_code, 'RESOURCE_DOES_NOT_EXIST');
      return true;
    });
  });

  await t.test('runs: create with tags, get', async () => {
    const { run } = await Runs.create({
      experiment_id: experimentId,
      user_id: 'js-client',
      start_time: startTime,
      tags: [{ key: 'mlflow.runName', value: 'js-run-a' }, { key: 'team', value: 'ranking' }],
    });
    runId = run.info.run_id;
    assert.match(runId, /^[0-9a-f]{32}$/);
    assert.equal(run.info.experiment_id, experimentId);
    assert.equal(run.info.status, 'RUNNING');
    assert.equal(run.info.lifecycle_stage, 'active');
    assert.equal(run.info.user_id, 'js-client');
    assert.equal(Number(run.info.start_time), startTime);
    assert.equal(run.info.run_name, 'js-run-a');

    const got = (await Runs.get({ run_id: runId })).run;
    assert.equal(got.info.run_id, runId);
    assert.equal(tagMap(got.data.tags).team, 'ranking');
    assert.equal(tagMap(got.data.tags)['mlflow.runName'], 'js-run-a');

    const other = await Runs.create({ experiment_id: experimentId, start_time: startTime + 1 });
    otherRunId = other.run.info.run_id;
    assert.notEqual(otherRunId, runId);
  });

  await t.test('runs: log metric, param, tag; delete tag', async () => {
    for (const [step, value] of [[0, 0.5], [1, 0.75], [2, 0.875]]) {
      assert.deepEqual(await Runs.logMetric({ run_id: runId, key: 'auc', value, timestamp: startTime + step * 1000, step }), {});
    }
    assert.deepEqual(await Runs.logParameter({ run_id: runId, key: 'lr', value: '0.01' }), {});
    assert.deepEqual(await Runs.setTag({ run_id: runId, key: 'stage', value: 'candidate' }), {});
    assert.deepEqual(await Runs.setTag({ run_id: runId, key: 'scratch', value: 'x' }), {});
    assert.deepEqual(await Runs.deleteTag({ run_id: runId, key: 'scratch' }), {});

    const { run } = await Runs.get({ run_id: runId });
    const metrics = Object.fromEntries(run.data.metrics.map((m) => [m.key, m]));
    assert.equal(metrics.auc.value, 0.875);
    assert.equal(Number(metrics.auc.step), 2);
    assert.equal(Number(metrics.auc.timestamp), startTime + 2000);
    assert.deepEqual(tagMap(run.data.params), { lr: '0.01' });
    const tags = tagMap(run.data.tags);
    assert.equal(tags.stage, 'candidate');
    assert.equal(tags.scratch, undefined);
  });

  await t.test('runs: a changed param value is INVALID_PARAMETER_VALUE', async () => {
    await assert.rejects(Runs.logParameter({ run_id: runId, key: 'lr', value: '0.02' }), (err) => {
      const f = failure(err);
      assert.equal(f.status, 400);
      assert.equal(f.data.error_code, 'INVALID_PARAMETER_VALUE');
      return true;
    });
  });

  await t.test('runs: log-batch', async () => {
    const res = await Runs.logBatch({
      run_id: otherRunId,
      metrics: [
        { key: 'loss', value: 1.5, timestamp: startTime, step: 0 },
        { key: 'loss', value: 0.25, timestamp: startTime + 1000, step: 1 },
        { key: 'auc', value: 0.6, timestamp: startTime + 1000, step: 1 },
      ],
      params: [{ key: 'lr', value: '0.1' }, { key: 'depth', value: '6' }],
      tags: [{ key: 'stage', value: 'baseline' }],
    });
    assert.deepEqual(res, {});
    const { run } = await Runs.get({ run_id: otherRunId });
    const metrics = Object.fromEntries(run.data.metrics.map((m) => [m.key, m.value]));
    assert.deepEqual(metrics, { loss: 0.25, auc: 0.6 });
    assert.deepEqual(tagMap(run.data.params), { lr: '0.1', depth: '6' });
    assert.equal(tagMap(run.data.tags).stage, 'baseline');
  });

  await t.test('metrics: get-history', async () => {
    const { metrics } = await Metrics.getHistory({ run_id: runId, metric_key: 'auc' });
    assert.deepEqual(
      metrics.map((m) => [m.key, m.value, Number(m.step), Number(m.timestamp)]),
      [
        ['auc', 0.5, 0, startTime],
        ['auc', 0.75, 1, startTime + 1000],
        ['auc', 0.875, 2, startTime + 2000],
      ],
    );
    const loss = await Metrics.getHistory({ run_id: otherRunId, metric_key: 'loss' });
    assert.deepEqual(loss.metrics.map((m) => m.value), [1.5, 0.25]);
  });

  await t.test('runs: search with filter and order', async () => {
    const byMetric = await Runs.search({ experiment_ids: [experimentId], filter: 'metrics.auc > 0.7' });
    assert.deepEqual(byMetric.runs.map((r) => r.info.run_id), [runId]);

    const byParam = await Runs.search({ experiment_ids: [experimentId], filter: "params.lr = '0.1'" });
    assert.deepEqual(byParam.runs.map((r) => r.info.run_id), [otherRunId]);

    const byTag = await Runs.search({ experiment_ids: [experimentId], filter: "tags.stage = 'candidate'" });
    assert.deepEqual(byTag.runs.map((r) => r.info.run_id), [runId]);
    assert.equal(byTag.runs[0].data.metrics.find((m) => m.key === 'auc').value, 0.875);

    const ordered = await Runs.search({ experiment_ids: [experimentId], order_by: ['metrics.auc DESC'] });
    assert.deepEqual(ordered.runs.map((r) => r.info.run_id), [runId, otherRunId]);

    const page1 = await Runs.search({ experiment_ids: [experimentId], max_results: 1, order_by: ['start_time ASC'] });
    assert.deepEqual(page1.runs.map((r) => r.info.run_id), [runId]);
    assert.equal(typeof page1.next_page_token, 'string');
    const page2 = await Runs.search({ experiment_ids: [experimentId], max_results: 1, order_by: ['start_time ASC'], page_token: page1.next_page_token });
    assert.deepEqual(page2.runs.map((r) => r.info.run_id), [otherRunId]);
  });

  await t.test('runs: update status and end time', async () => {
    const endTime = startTime + 30_000;
    const { run_info: info } = await Runs.update({ run_id: runId, status: 'FINISHED', end_time: endTime });
    assert.equal(info.run_id, runId);
    assert.equal(info.status, 'FINISHED');
    assert.equal(Number(info.end_time), endTime);
    const { run } = await Runs.get({ run_id: runId });
    assert.equal(run.info.status, 'FINISHED');
    assert.equal(Number(run.info.end_time), endTime);
  });

  await t.test('runs: delete and restore, seen through search view types', async () => {
    assert.deepEqual(await Runs.delete({ run_id: otherRunId }), {});
    assert.equal((await Runs.get({ run_id: otherRunId })).run.info.lifecycle_stage, 'deleted');

    const active = await Runs.search({ experiment_ids: [experimentId], run_view_type: 'ACTIVE_ONLY' });
    assert.deepEqual(active.runs.map((r) => r.info.run_id), [runId]);
    const deleted = await Runs.search({ experiment_ids: [experimentId], run_view_type: 'DELETED_ONLY' });
    assert.deepEqual(deleted.runs.map((r) => r.info.run_id), [otherRunId]);

    assert.deepEqual(await Runs.restore({ run_id: otherRunId }), {});
    assert.equal((await Runs.get({ run_id: otherRunId })).run.info.lifecycle_stage, 'active');
    const all = await Runs.search({ experiment_ids: [experimentId], run_view_type: 'ALL' });
    assert.equal(all.runs.length, 2);
  });

  await t.test('artifacts: list of a run without artifacts', async () => {
    const res = await Artifacts.list({ run_id: runId });
    assert.equal(typeof res.root_uri, 'string');
    assert.match(res.root_uri, new RegExp(runId));
    assert.deepEqual(res.files ?? [], []);
  });

  await t.test('artifacts: list after an upload through the artifact proxy', async () => {
    // The client cannot upload, so put one file where MLflow's own client
    // would: the mlflow-artifacts proxy under the run's artifact root.
    const { run } = await Runs.get({ run_id: runId });
    const root = run.info.artifact_uri;
    const m = /^mlflow-artifacts:\/(.*)$/.exec(root);
    assert.ok(m, `artifact_uri ${root} is not an mlflow-artifacts: URI`);
    const body = 'hello from the js client\n';
    const put = await fetch(`${endpoint}/api/2.0/mlflow-artifacts/artifacts/${m[1].replace(/^\//, '')}/notes/readme.txt`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/plain' },
      body,
    });
    assert.equal(put.status, 200, await put.text());

    const top = await Artifacts.list({ run_id: runId });
    assert.deepEqual(top.files, [{ path: 'notes', is_dir: true }]);
    const inner = await Artifacts.list({ run_id: runId, path: 'notes' });
    assert.deepEqual(inner.files, [{ path: 'notes/readme.txt', is_dir: false, file_size: Buffer.byteLength(body) }]);
  });

  await t.test('a bad token is rejected with 401', async () => {
    const bad = new MLflow({ endpoint, headers: { Authorization: 'Bearer trl_not_a_real_token' } });
    await assert.rejects(bad.Experiments.get({ experiment_id: experimentId }), (err) => {
      assert.equal(failure(err).status, 401);
      return true;
    });
  });
});
