// Renders the chart with tests/helm/render and checks the result (label `helm`, tests/helm/CMakeLists.txt).
//
//   node check_chart.mjs render  --render BIN --chart DIR --out DIR --scenario NAME [-f values.yaml]
//     The merged values must pass values.schema.json; every rendered object must pass the Kubernetes or
//     prometheus-operator schema (kubernetes-models); the scenario's objects and wiring are asserted
//     (SCENARIOS below says what each values file must produce).
//     Leaves for the next tests: OUT/exporter/anomaly.yml (the rendered exporter config, secret paths
//     moved under OUT/exporter/root/ where stand-in files exist), OUT/rules.yml (the PrometheusRule's
//     spec.groups, when rendered) and OUT/web/web-config.yml (the web config the chart generated, when
//     it does; check_web_config.sh puts certificates beside it and runs promtool check web-config).
//   node check_chart.mjs web-config-file --render BIN --chart DIR --out DIR -f values.yaml --file web.yml
//     A web config a user keeps in web.configSecret (the docs' example) must name only files that the
//     rendered pod mounts beside it; copies it to OUT/web/web-config.yml for check_web_config.sh.
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
  check(modelError({ apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor", metadata: { name: "x" },
                     spec: { selector: {}, endpoints: [{ port: "http", scheme: "https", tlsConfig: { ca: { secret: "ca" } } }] } }) !== "",
        "a ServiceMonitor with tlsConfig.ca.secret a string passes");
  check(modelError({ apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor", metadata: { name: "x" },
                     spec: { selector: {}, endpoints: [{ port: "http", basicAuth: { username: "u" } }] } }) !== "",
        "a ServiceMonitor with basicAuth.username a string passes");
  check(modelError({ apiVersion: "v1", kind: "Secret", metadata: { name: "x" } }) !== "",
        "an object of an unchecked kind passes");
  check(schemaErrors(process.argv[3] ?? "../../helm/anomaly-exporter", { shards: "3" }).length > 0,
        "values.schema.json accepts shards: \"3\"");
  finish();
}

// What each scenario's values file must render. objects: the optional kinds present (others absent).
// web: the --web.config.file wiring, null when the web config is off.
const SCENARIOS = {
  default: { shards: 1, objects: [], dashboards: true, secretFiles: [], web: null },
  sharded: {
    shards: 3, objects: ["ServiceMonitor", "PrometheusRule", "NetworkPolicy", "PodDisruptionBudget"], dashboards: true,
    secretFiles: ["/etc/anomaly-exporter/secrets/bearer-token/token"], release: true, secrets: ["mimir-reader"], web: null,
  },
  basic_auth: { shards: 1, objects: [], dashboards: false, secretFiles: ["/etc/anomaly-exporter/secrets/basic-auth/password"],
                web: null, noPortForward: true },
  tls: {
    shards: 1, objects: ["ServiceMonitor", "NetworkPolicy"], dashboards: false, secretFiles: [],
    workloadAnnotations: { "secret.reloader.stakater.com/reload": "anomaly-exporter-tls" },
    web: { source: { configMap: true }, tls: "anomaly-exporter-tls", clientCA: null, tcpProbes: false,
           config: { tls_server_config: { cert_file: "tls.crt", key_file: "tls.key", min_version: "TLS13" },
                     http_server_config: { headers: { "Strict-Transport-Security": "max-age=31536000",
                                                       "X-Content-Type-Options": "nosniff" } } },
           monitor: { serverName: "demo-anomaly-exporter.monitoring.svc", ca: ["anomaly-exporter-tls", "ca.crt"],
                      clientCert: null, basicAuth: null } },
  },
  mtls: {
    shards: 1, objects: ["ServiceMonitor"], dashboards: false, secretFiles: [],
    web: { source: { configMap: true }, tls: "anomaly-exporter-tls", clientCA: ["anomaly-exporter-tls", "ca.crt"], tcpProbes: true,
           config: { tls_server_config: { cert_file: "tls.crt", key_file: "tls.key", client_ca_file: "ca.crt",
                                          client_auth_type: "RequireAndVerifyClientCert",
                                          cipher_suites: ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                                                          "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"] } },
           monitor: { serverName: "demo-anomaly-exporter.monitoring.svc", ca: ["anomaly-exporter-tls", "ca.crt"],
                      clientCert: "prometheus-scrape-client", basicAuth: null } },
  },
  tls_basic_auth: {
    shards: 1, objects: ["ServiceMonitor"], dashboards: false, secretFiles: [], noPortForward: true,
    web: { source: { secret: "anomaly-exporter-web-config", key: "web-config.yml" }, tls: "anomaly-exporter-tls",
           clientCA: null, tcpProbes: true, config: null,
           monitor: { serverName: "demo-anomaly-exporter.monitoring.svc", ca: ["anomaly-exporter-tls", "ca.crt"],
                      clientCert: null, basicAuth: ["prometheus-scrape-auth", "user", "pass"] } },
  },
  mtls_basic_auth: {
    shards: 3, objects: ["ServiceMonitor", "NetworkPolicy"], dashboards: false, secretFiles: [], release: true,
    web: { source: { secret: "anomaly-exporter-web-config", key: "web.yml" }, tls: "anomaly-exporter-tls",
           clientCA: ["scrapers-ca", "ca.pem"], tcpProbes: true, config: null,
           monitor: { serverName: "anomaly-exporter.monitoring.example", ca: ["internal-ca", "root.pem"],
                      clientCert: "prometheus-scrape-client", basicAuth: ["anomaly-exporter-scrape-auth", "username", "password"] } },
  },
};

function yamlToJson(text) {
  return JSON.parse(execFileSync("python3", ["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"],
                                 { input: text, encoding: "utf8" }));
}

// The projected volume behind the web config's folder: file name -> {kind, name, key}.
function webFiles(pod, mountPath) {
  const mount = pod.containers[0].volumeMounts.find((m) => m.mountPath === mountPath);
  const volume = pod.volumes.find((v) => v.name === mount?.name);
  const files = new Map();
  for (const src of volume?.projected?.sources ?? []) {
    for (const kind of ["configMap", "secret"]) {
      if (!src[kind]) continue;
      for (const item of src[kind].items ?? []) {
        check(!files.has(item.path), `web volume: ${item.path} projected twice`);
        files.set(item.path, { kind, name: src[kind].name, key: item.key });
      }
    }
  }
  return { mount, volume, files };
}

// Every *_file of a web config must be a file of the projected volume, named relative to its folder.
function checkWebConfigFiles(config, files, what) {
  const named = [];
  const walk = (node) => {
    if (node && typeof node === "object") {
      for (const [k, v] of Object.entries(node)) {
        if (k.endsWith("_file")) named.push(v);
        else walk(v);
      }
    }
  };
  walk(config);
  for (const f of named) check(files.has(f), `${what} names ${f}, which the web volume does not project`);
  return named;
}

function checkWeb(args, want, docs, w, pod, c, services, monitors) {
  const arg = c.args.find((a) => a.startsWith("--web.config.file"));
  const webDir = path.join(args.out, "web");
  fs.rmSync(webDir, { recursive: true, force: true });
  const probeKinds = [c.livenessProbe, c.readinessProbe].map((p) => (p?.tcpSocket ? "tcp" : p?.httpGet ? p.httpGet.scheme ?? "HTTP" : "none"));
  const annotation = w.spec.template.metadata.annotations?.["checksum/web-config"];
  if (!want) {
    check(arg === undefined, `no web config expected, got ${arg}`);
    check(!pod.volumes.some((v) => v.name === "web"), "no web volume expected");
    check(probeKinds.join() === "HTTP,HTTP", `plain httpGet probes expected, got ${probeKinds}`);
    check(annotation === undefined, "no checksum/web-config without a web config");
    for (const s of services) check(s.spec.ports.every((p) => p.appProtocol === undefined), `Service ${s.metadata.name}: appProtocol`);
    for (const m of monitors) check(m.spec.endpoints.every((e) => !e.scheme && !e.tlsConfig && !e.basicAuth), "ServiceMonitor: no TLS or auth");
    return;
  }
  // The flag names web-config.yml in a read-only mount of the projected volume, without subPath (a
  // subPath mount would not see a rotated Secret).
  const file = arg?.split("=")[1] ?? "";
  check(path.basename(file) === "web-config.yml", `--web.config.file ${file}`);
  const { mount, volume, files } = webFiles(pod, path.dirname(file));
  check(mount && mount.readOnly === true && mount.subPath === undefined, `web mount ${JSON.stringify(mount)}`);
  check(volume?.projected !== undefined, "web volume is a projected volume");
  check(volume?.projected?.defaultMode === 0o440, `web volume mode ${volume?.projected?.defaultMode}`);
  const cfgSource = files.get("web-config.yml");
  const webCMs = byKind(docs, "ConfigMap").filter((m) => m.data?.["web-config.yml"] !== undefined);
  if (want.source.configMap) {
    check(webCMs.length === 1 && cfgSource?.kind === "configMap" && cfgSource.name === webCMs[0].metadata.name,
          `web-config.yml from the chart's ConfigMap, got ${JSON.stringify(cfgSource)}`);
    check(/^[0-9a-f]{64}$/.test(annotation ?? ""), "checksum/web-config annotation for the generated web config");
  } else {
    check(webCMs.length === 0, "no generated web config with web.configSecret");
    check(cfgSource?.kind === "secret" && cfgSource.name === want.source.secret && cfgSource.key === want.source.key,
          `web-config.yml from Secret ${want.source.secret}/${want.source.key}, got ${JSON.stringify(cfgSource)}`);
    check(annotation === undefined, "no checksum/web-config for a web config the chart cannot read");
  }
  // Certificate files: the server's pair, and the client CA only when client certificates are verified.
  for (const f of ["tls.crt", "tls.key"]) {
    const got = files.get(f);
    check(got?.kind === "secret" && got.name === want.tls && got.key === f, `${f} from Secret ${want.tls}, got ${JSON.stringify(got)}`);
  }
  const ca = files.get("ca.crt");
  if (want.clientCA) {
    check(ca?.kind === "secret" && ca.name === want.clientCA[0] && ca.key === want.clientCA[1], `ca.crt from ${want.clientCA}, got ${JSON.stringify(ca)}`);
  } else {
    check(ca === undefined, "no ca.crt without client certificate verification");
  }
  check([...files.keys()].sort().join() === ["web-config.yml", "tls.crt", "tls.key", ...(want.clientCA ? ["ca.crt"] : [])].sort().join(),
        `web volume files ${[...files.keys()]}`);
  if (want.config) {
    const config = yamlToJson(webCMs[0].data["web-config.yml"]);
    check(JSON.stringify(sortKeys(config)) === JSON.stringify(sortKeys(want.config)), `generated web config ${JSON.stringify(config)}`);
    checkWebConfigFiles(config, files, "the generated web config");
    check(!/\$2[aby]\$|PRIVATE KEY|password/i.test(webCMs[0].data["web-config.yml"]), "secret material in the web config ConfigMap");
    fs.mkdirSync(webDir, { recursive: true });
    fs.writeFileSync(path.join(webDir, "web-config.yml"), webCMs[0].data["web-config.yml"]);
  }
  // Probes: kubelet cannot authenticate, so tcpSocket where basic auth or a client certificate is required.
  check(probeKinds.join() === (want.tcpProbes ? "tcp,tcp" : "HTTPS,HTTPS"), `probes ${probeKinds}`);
  for (const p of [c.livenessProbe, c.readinessProbe]) {
    if (p?.tcpSocket) check(p.tcpSocket.port === "http", "tcpSocket probe on the http port");
  }
  for (const s of services) check(s.spec.ports.every((p) => p.name === "http" && p.appProtocol === "https"), `Service ${s.metadata.name}: port http, appProtocol https`);
  // The ServiceMonitor: https, the certificate verified for an explicit name, client certificate and basic
  // auth from Secrets.
  const m = want.monitor;
  for (const mon of monitors) {
    const ep = mon.spec.endpoints[0];
    check(ep.scheme === "https", "ServiceMonitor scheme https");
    check(ep.tlsConfig?.serverName === m.serverName, `ServiceMonitor serverName ${ep.tlsConfig?.serverName}`);
    check(ep.tlsConfig?.insecureSkipVerify === undefined, "ServiceMonitor verifies the certificate");
    check(ep.tlsConfig?.ca?.secret?.name === m.ca[0] && ep.tlsConfig.ca.secret.key === m.ca[1], `ServiceMonitor CA ${JSON.stringify(ep.tlsConfig?.ca)}`);
    if (m.clientCert) {
      check(ep.tlsConfig?.cert?.secret?.name === m.clientCert && ep.tlsConfig.cert.secret.key === "tls.crt" &&
            ep.tlsConfig?.keySecret?.name === m.clientCert && ep.tlsConfig.keySecret.key === "tls.key", "ServiceMonitor client certificate");
    } else {
      check(ep.tlsConfig?.cert === undefined && ep.tlsConfig?.keySecret === undefined, "ServiceMonitor sends no client certificate");
    }
    if (m.basicAuth) {
      check(ep.basicAuth?.username?.name === m.basicAuth[0] && ep.basicAuth.username.key === m.basicAuth[1] &&
            ep.basicAuth?.password?.name === m.basicAuth[0] && ep.basicAuth.password.key === m.basicAuth[2], `ServiceMonitor basicAuth ${JSON.stringify(ep.basicAuth)}`);
    } else {
      check(ep.basicAuth === undefined, "ServiceMonitor sends no basic auth");
    }
  }
  const notes = fs.readFileSync(path.join(args.out, "NOTES.txt"), "utf8");
  check(notes.includes("https://") && notes.includes("--cacert"), "NOTES.txt shows an https curl");
  check(notes.includes("tcpSocket") === want.tcpProbes, "NOTES.txt explains tcpSocket probes when they are used");
}

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
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

  const want = SCENARIOS[args.scenario];
  if (!want) throw new Error(`unknown scenario ${args.scenario}`);
  const sharded = want.shards > 1;
  // The chart never creates a Secret: every secret is referenced.
  check(byKind(docs, "Secret").length === 0, "the chart rendered a Secret");
  const workloads = [...byKind(docs, "Deployment"), ...byKind(docs, "StatefulSet")];
  check(workloads.length === 1, `one workload expected, got ${workloads.length}`);
  const w = workloads[0];
  check(w.kind === (sharded ? "StatefulSet" : "Deployment"), `workload kind ${w.kind}`);
  check(w.spec.replicas === want.shards, `replicas ${w.spec.replicas}`);
  check(JSON.stringify(w.metadata.annotations) === JSON.stringify(want.workloadAnnotations),
        `workload annotations ${JSON.stringify(w.metadata.annotations)}`);
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
  // Probes and ports line up with the Service (probe kinds and schemes: checkWeb).
  check(c.readinessProbe?.httpGet?.path === "/-/ready" || c.readinessProbe?.tcpSocket, "readinessProbe on /-/ready");
  check(c.livenessProbe?.httpGet?.path === "/-/healthy" || c.livenessProbe?.tcpSocket, "livenessProbe on /-/healthy");
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
    check(c.args.includes("--shard.index=$(SHARD_INDEX)") && c.args.includes(`--shard.count=${want.shards}`), "shard flags");
    const env = (c.env ?? []).find((e) => e.name === "SHARD_INDEX");
    check(env?.valueFrom?.fieldRef?.fieldPath === "metadata.labels['apps.kubernetes.io/pod-index']",
          "SHARD_INDEX from the pod-index label");
    const headless = services.find((s) => s.spec.clusterIP === "None");
    check(headless && w.spec.serviceName === headless.metadata.name, "StatefulSet serviceName is the headless Service");
    // Misdirected feedback is redirected to the owning pod: <statefulset>-<k>.<headless>.<namespace>.svc.
    const scheme = want.web?.tls ? "https" : "http";
    const template = `--web.shard-url-template=${scheme}://${w.metadata.name}-{shard}.${headless?.metadata.name}.` +
                     `${w.metadata.namespace}.svc:${port?.containerPort}`;
    check(c.args.includes(template), `shard URL template: want ${template}`);
  } else {
    check(!c.args.some((a) => a.startsWith("--shard.") || a.startsWith("--web.shard-url-template")),
          "no shard flags unsharded");
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
  check(JSON.stringify(files) === JSON.stringify(want.secretFiles), `secret files ${JSON.stringify(files)}`);
  // Dashboards: one labelled ConfigMap per files/dashboards/*.json, content unchanged.
  const dashboards = byKind(docs, "ConfigMap").filter((m) => m.metadata.labels?.grafana_dashboard === "1");
  const shipped = fs.readdirSync(path.join(args.chart, "files/dashboards")).filter((f) => f.endsWith(".json"));
  check(dashboards.length === (want.dashboards ? shipped.length : 0), `dashboard ConfigMaps ${dashboards.length}`);
  for (const d of dashboards) {
    const [key] = Object.keys(d.data);
    check(d.data[key] === fs.readFileSync(path.join(args.chart, "files/dashboards", key), "utf8").replace(/\n$/, ""),
          `dashboard ${key} changed on the way`);
  }
  // prometheus-operator objects and the optional ones.
  const monitors = byKind(docs, "ServiceMonitor");
  const rules = byKind(docs, "PrometheusRule");
  for (const kind of ["ServiceMonitor", "PrometheusRule", "NetworkPolicy", "PodDisruptionBudget"]) {
    check(byKind(docs, kind).length === (want.objects.includes(kind) ? 1 : 0), `${kind}: ${byKind(docs, kind).length}`);
  }
  if (monitors.length) {
    const ep = monitors[0].spec.endpoints[0];
    check(ep.honorLabels === true, "ServiceMonitor honorLabels true");
    check(ep.port === port.name, "ServiceMonitor port is the container's port name");
    check((monitors[0].metadata.labels.release === "demo") === (want.release === true), "release label on the ServiceMonitor");
    const matched = services.filter((s) =>
      Object.entries(monitors[0].spec.selector.matchLabels).every(([k, v]) => s.metadata.labels[k] === v) &&
      (monitors[0].spec.selector.matchExpressions ?? []).every((e) => e.operator !== "DoesNotExist" || !(e.key in s.metadata.labels)));
    check(matched.length === 1 && matched[0] === main, "the ServiceMonitor selects exactly the main Service");
  }
  for (const np of byKind(docs, "NetworkPolicy")) {
    check(np.spec.ingress.every((r) => r.ports.every((p) => p.port === port.name)), "NetworkPolicy admits the http port only");
  }
  if (rules.length) {
    const groups = rules[0].spec.groups;
    const shippedGroups = fs.readdirSync(path.join(args.chart, "files/rules")).length;
    check(groups.length >= shippedGroups, "PrometheusRule holds every shipped group");
    fs.writeFileSync(path.join(args.out, "rules.yml"), JSON.stringify({ groups }, null, 2));
  }
  for (const name of want.secrets ?? []) check(pod.volumes.some((v) => v.secret?.secretName === name), `Secret ${name} mounted`);
  check(fs.readFileSync(path.join(args.out, "NOTES.txt"), "utf8").includes("port-forward") || want.noPortForward,
        "NOTES.txt explains port-forward");
  checkWeb(args, want.web, docs, w, pod, c, services, monitors);
  finish();
}

// A user's web config for web.configSecret (the docs' example): every file it names is one the rendered
// pod projects beside it; copied to OUT/web for promtool check web-config.
function checkWebConfigFile(args) {
  render(args);
  const docs = JSON.parse(fs.readFileSync(path.join(args.out, "manifests.json"), "utf8"));
  const w = [...byKind(docs, "Deployment"), ...byKind(docs, "StatefulSet")][0];
  const pod = w.spec.template.spec;
  const file = pod.containers[0].args.find((a) => a.startsWith("--web.config.file="))?.split("=")[1] ?? "";
  check(file !== "", "the pod runs with --web.config.file");
  const { files } = webFiles(pod, path.dirname(file));
  check(files.get("web-config.yml")?.kind === "secret", "web-config.yml comes from web.configSecret");
  const text = fs.readFileSync(args.file, "utf8");
  const named = checkWebConfigFiles(yamlToJson(text), files, args.file);
  check(named.length > 0, `${args.file} names no file`);
  const webDir = path.join(args.out, "web");
  fs.rmSync(webDir, { recursive: true, force: true });
  fs.mkdirSync(webDir, { recursive: true });
  fs.writeFileSync(path.join(webDir, "web-config.yml"), text);
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
else if (mode === "web-config-file") checkWebConfigFile(parseArgs(rest));
else {
  console.error("usage: check_chart.mjs render|rejects|web-config-file|selftest ...");
  process.exit(2);
}
