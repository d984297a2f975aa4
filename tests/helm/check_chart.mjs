// Renders the chart with tests/helm/render and checks the result (label `helm`, tests/helm/CMakeLists.txt).
//
//   node check_chart.mjs render  --render BIN --chart DIR --out DIR --scenario default|sharded|basic_auth [-f values.yaml]
//     The merged values must pass values.schema.json; every rendered object must pass the Kubernetes or
//     prometheus-operator schema (kubernetes-models); the scenario's objects and wiring are asserted.
//     Leaves for the next tests: OUT/exporter/anomaly.yml (the rendered exporter config, secret paths
//     moved under OUT/exporter/root/ where stand-in files exist) and OUT/rules.yml (the PrometheusRule's
//     spec.groups, when rendered).
//   node check_chart.mjs rejects --render BIN --chart DIR --out DIR -f broken.yaml --expect /a,/b/c,...
//     values.schema.json must reject the merged values, with an error at each expected path.
//   node check_chart.mjs selftest
//     The validators themselves must reject known-bad objects, so a green run means something.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import Ajv from "ajv";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { ConfigMap, Service, ServiceAccount } from "kubernetes-models/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { PrometheusRule, ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

const MODELS = {
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "v1/ConfigMap": ConfigMap,
  "v1/Service": Service,
  "v1/ServiceAccount": ServiceAccount,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "monitoring.coreos.com/v1/PrometheusRule": PrometheusRule,
  "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor,
};

const failures = [];
function check(ok, message) {
  if (!ok) failures.push(message);
}
function finish() {
  if (failures.length) {
    for (const f of failures) console.error("FAIL: " + f);
    process.exit(1);
  }
  console.log("ok");
}

function parseArgs(argv) {
  const args = { f: [] };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^-+/, "");
    if (key === "f") args.f.push(argv[++i]);
    else args[key] = argv[++i];
  }
  return args;
}

function render(args, extra = []) {
  const cmd = ["-chart", args.chart, "-out", args.out, "-name", "demo", "-namespace", "monitoring", ...extra];
  for (const f of args.f) cmd.push("-f", f);
  execFileSync(args.render, cmd, { stdio: "inherit" });
}

function schemaErrors(chart, values) {
  const schema = JSON.parse(fs.readFileSync(path.join(chart, "values.schema.json"), "utf8"));
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
  const validate = ajv.compile(schema);
  return validate(values) ? [] : validate.errors;
}

// The object's schema error, or "" when it validates. An unknown apiVersion/kind is an error too: every
// kind the chart renders must be checked.
function modelError(obj) {
  const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
  if (!Model) return `no schema for ${obj.apiVersion} ${obj.kind}`;
  try {
    new Model(obj).validate();
    return "";
  } catch (e) {
    return e.message;
  }
}

function selftest() {
  const deployment = {
    apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" },
    spec: { selector: { matchLabels: { a: "b" } },
            template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "i" }] } } },
  };
  check(modelError(deployment) === "", "a valid Deployment is rejected: " + modelError(deployment));
  check(modelError({ ...deployment, spec: { ...deployment.spec, replicas: "3" } }) !== "",
        "a Deployment with replicas \"3\" passes");
  check(modelError({ apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor", metadata: { name: "x" },
                     spec: { selector: {}, endpoints: [{ port: "http", honorLabels: "yes" }] } }) !== "",
        "a ServiceMonitor with honorLabels \"yes\" passes");
  check(modelError({ apiVersion: "v1", kind: "Secret", metadata: { name: "x" } }) !== "",
        "an object of an unchecked kind passes");
  check(schemaErrors(process.argv[3] ?? "../../helm/anomaly-exporter", { shards: "3" }).length > 0,
        "values.schema.json accepts shards: \"3\"");
  finish();
}

function byKind(docs, kind) {
  return docs.filter((d) => d.kind === kind);
}

// Moves every *_file path of the exporter config under `root`, creating a stand-in file there, and checks
// that the original path is a file the pod mounts from a Secret volume.
function relocateSecretFiles(config, root, pod) {
  const container = pod.containers[0];
  const mounted = new Map();
  for (const m of container.volumeMounts ?? []) {
    const volume = pod.volumes.find((v) => v.name === m.name);
    if (!volume?.secret) continue;
    for (const item of volume.secret.items ?? []) mounted.set(`${m.mountPath}/${item.path}`, volume.secret.secretName);
  }
  const files = [];
  const text = config.replace(/^(\s*\w+_file:\s*)(\S+)\s*$/gm, (_, key, file) => {
    files.push(file);
    const local = path.join(root, file);
    fs.mkdirSync(path.dirname(local), { recursive: true });
    fs.writeFileSync(local, "stand-in secret\n");
    return key + local;
  });
  for (const f of files) check(mounted.has(f), `config names ${f}, which no Secret volume mounts`);
  return { text, files, mounted };
}

function checkRender(args) {
  render(args);
  const values = JSON.parse(fs.readFileSync(path.join(args.out, "values.json"), "utf8"));
  for (const e of schemaErrors(args.chart, values)) check(false, `values.schema.json: ${e.instancePath} ${e.message}`);
  const docs = JSON.parse(fs.readFileSync(path.join(args.out, "manifests.json"), "utf8"));
  for (const d of docs) {
    const err = modelError(d);
    check(err === "", `${d.kind} ${d.metadata?.name}: ${err}`);
    check(d.metadata?.labels?.["app.kubernetes.io/managed-by"] === "Helm", `${d.kind} ${d.metadata?.name}: no managed-by label`);
  }

  const sharded = args.scenario === "sharded";
  const workloads = [...byKind(docs, "Deployment"), ...byKind(docs, "StatefulSet")];
  check(workloads.length === 1, `one workload expected, got ${workloads.length}`);
  const w = workloads[0];
  check(w.kind === (sharded ? "StatefulSet" : "Deployment"), `workload kind ${w.kind}`);
  check(w.spec.replicas === (sharded ? 3 : 1), `replicas ${w.spec.replicas}`);
  const pod = w.spec.template.spec;
  const c = pod.containers[0];
  const selector = w.spec.selector.matchLabels;
  for (const [k, v] of Object.entries(selector)) {
    check(w.spec.template.metadata.labels[k] === v, `pod labels lack selector ${k}=${v}`);
  }
  check(/^[0-9a-f]{64}$/.test(w.spec.template.metadata.annotations?.["checksum/config"] ?? ""),
        "no checksum/config annotation on the pod template");
  // Security defaults.
  check(pod.securityContext.runAsNonRoot === true, "pod runAsNonRoot");
  check(pod.securityContext.seccompProfile?.type === "RuntimeDefault", "pod seccomp RuntimeDefault");
  check(c.securityContext.readOnlyRootFilesystem === true, "readOnlyRootFilesystem");
  check(c.securityContext.allowPrivilegeEscalation === false, "allowPrivilegeEscalation false");
  check(JSON.stringify(c.securityContext.capabilities?.drop) === '["ALL"]', "capabilities drop ALL");
  check(c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.memory,
        "resource requests and limits");
  check(pod.automountServiceAccountToken === false, "service account token not mounted");
  // Probes and ports line up with the Service.
  check(c.readinessProbe?.httpGet?.path === "/-/ready", "readinessProbe on /-/ready");
  check(c.livenessProbe?.httpGet?.path === "/-/healthy", "livenessProbe on /-/healthy");
  const port = c.ports.find((p) => p.name === "http");
  check(port?.containerPort === 10650, "container port http 10650");
  check(c.args.includes(`--web.listen-address=:${port?.containerPort}`), "listen address matches the port");
  const services = byKind(docs, "Service");
  const main = services.find((s) => s.metadata.name === w.metadata.name);
  check(main?.spec.ports[0].targetPort === "http", "Service targets the http port");
  for (const s of services) {
    for (const [k, v] of Object.entries(s.spec.selector)) check(selector[k] === v, `Service ${s.metadata.name} selector ${k}`);
  }
  // Sharding: the index from the pod ordinal label, the count from values.
  if (sharded) {
    check(c.args.includes("--shard.index=$(SHARD_INDEX)") && c.args.includes("--shard.count=3"), "shard flags");
    const env = (c.env ?? []).find((e) => e.name === "SHARD_INDEX");
    check(env?.valueFrom?.fieldRef?.fieldPath === "metadata.labels['apps.kubernetes.io/pod-index']",
          "SHARD_INDEX from the pod-index label");
    const headless = services.find((s) => s.spec.clusterIP === "None");
    check(headless && w.spec.serviceName === headless.metadata.name, "StatefulSet serviceName is the headless Service");
  } else {
    check(!c.args.some((a) => a.startsWith("--shard.")), "no shard flags unsharded");
  }
  // The exporter config: from the ConfigMap the pod mounts, with the chart-owned secret paths.
  const cm = byKind(docs, "ConfigMap").find((m) => m.data?.["anomaly.yml"] !== undefined);
  check(cm && pod.volumes.some((v) => v.configMap?.name === cm.metadata.name), "config ConfigMap mounted");
  const configArg = c.args.find((a) => a.startsWith("--config.file="))?.split("=")[1];
  const configMount = c.volumeMounts.find((m) => m.name === pod.volumes.find((v) => v.configMap)?.name);
  check(configArg === `${configMount?.mountPath}/anomaly.yml`, `--config.file ${configArg} is the mounted file`);
  check(!/^shard:/m.test(cm.data["anomaly.yml"]), "no shard in the rendered config");
  const exporterDir = path.join(args.out, "exporter");
  fs.rmSync(exporterDir, { recursive: true, force: true });
  fs.mkdirSync(exporterDir, { recursive: true });
  const { text, files } = relocateSecretFiles(cm.data["anomaly.yml"], path.join(exporterDir, "root"), pod);
  fs.writeFileSync(path.join(exporterDir, "anomaly.yml"), text);
  const wantFiles = { default: [], sharded: ["/etc/anomaly-exporter/secrets/bearer-token/token"],
                      basic_auth: ["/etc/anomaly-exporter/secrets/basic-auth/password"] }[args.scenario];
  check(JSON.stringify(files) === JSON.stringify(wantFiles), `secret files ${JSON.stringify(files)}`);
  // Dashboards: one labelled ConfigMap per files/dashboards/*.json, content unchanged.
  const dashboards = byKind(docs, "ConfigMap").filter((m) => m.metadata.labels?.grafana_dashboard === "1");
  const shipped = fs.readdirSync(path.join(args.chart, "files/dashboards")).filter((f) => f.endsWith(".json"));
  check(dashboards.length === (args.scenario === "basic_auth" ? 0 : shipped.length), `dashboard ConfigMaps ${dashboards.length}`);
  for (const d of dashboards) {
    const [key] = Object.keys(d.data);
    check(d.data[key] === fs.readFileSync(path.join(args.chart, "files/dashboards", key), "utf8").replace(/\n$/, ""),
          `dashboard ${key} changed on the way`);
  }
  // prometheus-operator objects and the optional ones.
  const monitors = byKind(docs, "ServiceMonitor");
  const rules = byKind(docs, "PrometheusRule");
  for (const kind of ["ServiceMonitor", "PrometheusRule", "NetworkPolicy", "PodDisruptionBudget"]) {
    check(byKind(docs, kind).length === (sharded ? 1 : 0), `${kind}: ${byKind(docs, kind).length}`);
  }
  if (sharded) {
    const ep = monitors[0].spec.endpoints[0];
    check(ep.honorLabels === true, "ServiceMonitor honorLabels true");
    check(ep.port === port.name, "ServiceMonitor port is the container's port name");
    check(monitors[0].metadata.labels.release === "demo", "release label on the ServiceMonitor");
    const matched = services.filter((s) =>
      Object.entries(monitors[0].spec.selector.matchLabels).every(([k, v]) => s.metadata.labels[k] === v) &&
      (monitors[0].spec.selector.matchExpressions ?? []).every((e) => e.operator !== "DoesNotExist" || !(e.key in s.metadata.labels)));
    check(matched.length === 1 && matched[0] === main, "the ServiceMonitor selects exactly the main Service");
    const groups = rules[0].spec.groups;
    const shippedGroups = fs.readdirSync(path.join(args.chart, "files/rules")).length;
    check(groups.length >= shippedGroups, "PrometheusRule holds every shipped group");
    fs.writeFileSync(path.join(args.out, "rules.yml"), JSON.stringify({ groups }, null, 2));
    check(pod.volumes.some((v) => v.secret?.secretName === "mimir-reader"), "bearer token Secret mounted");
  }
  check(fs.readFileSync(path.join(args.out, "NOTES.txt"), "utf8").includes("port-forward") || args.scenario === "basic_auth",
        "NOTES.txt explains port-forward");
  finish();
}

function checkRejects(args) {
  render(args, ["-values-only"]);
  const values = JSON.parse(fs.readFileSync(path.join(args.out, "values.json"), "utf8"));
  const errors = schemaErrors(args.chart, values);
  const paths = new Set(errors.map((e) => e.instancePath || "/"));
  for (const want of args.expect.split(",")) check(paths.has(want), `no schema error at ${want}; got ${[...paths].join(" ")}`);
  finish();
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === "selftest") selftest();
else if (mode === "render") checkRender(parseArgs(rest));
else if (mode === "rejects") checkRejects(parseArgs(rest));
else {
  console.error("usage: check_chart.mjs render|rejects|selftest ...");
  process.exit(2);
}
