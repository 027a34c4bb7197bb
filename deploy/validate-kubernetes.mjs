// Offline checks of deploy/kubernetes/ (run by deploy/validate.sh; no cluster, no network):
//  1. every object validates against the Kubernetes OpenAPI schemas that the npm package
//     `kubernetes-models` ships compiled for ajv (types, required fields, enums, formats).
//     Like kubeconform without --strict, those schemas allow unknown fields, so a misspelt
//     field name is not caught there; the checks below read the fields that matter by name;
//  2. the objects agree with each other and with the image: selectors match the pod labels,
//     the Service and probes name the container's port, the probes are /livez and /readyz, the
//     HPA and PDB target the Deployment, the config and Secret volumes exist and are mounted
//     where the image looks (FROST_CONFIG, SNOWFLAKE_PRIVATE_KEY_PATH), and the ConfigMap holds
//     config/snowflake.example.yaml unchanged.
// Usage: node deploy/validate-kubernetes.mjs <tools node_modules> <deploy/kubernetes> <config/snowflake.example.yaml>
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, dirname, basename } from 'node:path';
import { pathToFileURL } from 'node:url';

const [modules, dir, snowflakeConfig] = process.argv.slice(2);
const require = createRequire(join(modules, 'x.js'));
const yaml = require('js-yaml');
const problems = [];
const check = (ok, what) => { if (!ok) problems.push(what); return ok; };

// 1. Schemas.
const objects = [];
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml').sort();
for (const file of files) {
  for (const doc of yaml.loadAll(readFileSync(join(dir, file), 'utf8'))) {
    if (doc == null) continue;
    const [group, version] = doc.apiVersion.includes('/') ? doc.apiVersion.split('/') : [null, doc.apiVersion];
    const model = join(modules, 'kubernetes-models', ...(group ? [group] : []), version, `${doc.kind}.js`);
    const where = `${file}: ${doc.kind} ${doc.metadata?.name}`;
    if (!check(existsSync(model), `${where}: no schema for ${doc.apiVersion} ${doc.kind} in kubernetes-models`)) continue;
    const { [doc.kind]: Model } = await import(pathToFileURL(model).href);
    try {
      new Model(doc).validate();
      console.log(`  schema ok: ${where} (${doc.apiVersion})`);
    } catch (e) {
      problems.push(`${where}: ${e.message}`);
    }
    objects.push({ file, ...doc });
  }
}

// 2. Cross-checks.
const one = (kind, name) => objects.find((o) => o.kind === kind && (!name || o.metadata.name === name));
const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
const kustomization = yaml.load(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'));
for (const r of kustomization.resources) check(existsSync(join(dir, r)), `kustomization.yaml: no ${r}`);
for (const f of files.filter((f) => f !== 'secret.yaml'))
  check(kustomization.resources.includes(f), `kustomization.yaml does not list ${f}`);
check(!kustomization.resources.includes('secret.yaml'), 'kustomization.yaml must not apply the placeholder secret.yaml');

const deployment = one('Deployment');
if (check(deployment, 'no Deployment')) {
  const spec = deployment.spec;
  const pod = spec.template.spec;
  const labels = spec.template.metadata.labels;
  check(matches(spec.selector.matchLabels, labels), 'Deployment: selector does not match its pod labels');
  const c = pod.containers.find((x) => x.name === 'frost');
  if (check(c, 'Deployment: no container named frost')) {
    const port = c.ports?.find((p) => p.name === 'http');
    check(port?.containerPort === 8080, 'Deployment: container port `http` is not 8080 (the image\'s EXPOSE and PORT)');
    const probe = (name, path) => {
      const p = c[name]?.httpGet;
      check(p?.path === path && (p?.port === 'http' || p?.port === 8080), `Deployment: ${name} is not GET ${path} on the http port`);
    };
    probe('livenessProbe', '/livez');
    probe('readinessProbe', '/readyz');
    probe('startupProbe', '/livez');
    check(c.resources?.requests?.cpu && c.resources?.requests?.memory, 'Deployment: no CPU and memory requests');
    check(c.resources?.limits?.memory, 'Deployment: no memory limit');
    check(pod.securityContext?.runAsNonRoot === true && pod.securityContext?.runAsUser === 65532,
          'Deployment: must run as non-root user 65532 (the image\'s)');
    check(c.securityContext?.readOnlyRootFilesystem === true && c.securityContext?.allowPrivilegeEscalation === false,
          'Deployment: read-only root and no privilege escalation expected');
    check(!c.command && JSON.stringify(c.args) === '["serve"]', 'Deployment: expected the image entrypoint with args ["serve"]');
    check(pod.terminationGracePeriodSeconds >= 29 + (c.lifecycle?.preStop?.sleep?.seconds ?? 0),
          'Deployment: the grace period must cover a 29 s request plus the preStop pause');
    const mount = (path) => c.volumeMounts?.find((m) => m.mountPath === path);
    const volume = (name) => pod.volumes?.find((v) => v.name === name);
    for (const m of c.volumeMounts ?? []) check(volume(m.name), `Deployment: mount ${m.mountPath} names no volume ${m.name}`);
    // The config: mounted where the image's FROST_CONFIG points.
    const configMount = mount('/var/task/config');
    const configMap = configMount && one('ConfigMap', volume(configMount.name)?.configMap?.name);
    check(configMap && typeof configMap.data?.['frost.yaml'] === 'string',
          'Deployment: /var/task/config (FROST_CONFIG=/var/task/config/frost.yaml) is not a ConfigMap with frost.yaml');
    if (configMap) {
      check(configMap.data['frost.yaml'] === readFileSync(snowflakeConfig, 'utf8'),
            `${configMap.file}: frost.yaml differs from ${basename(snowflakeConfig)} (regenerate it or change both)`);
      const cfg = yaml.load(configMap.data['frost.yaml']);
      check(cfg.endpoints?.length > 0, `${configMap.file}: frost.yaml declares no endpoints`);
      check(/^\.\.\/data\//.test(cfg.serving?.path ?? ''), `${configMap.file}: the serving database must be ../data/<name> (the pod's emptyDir)`);
    }
    check(volume(mount('/var/task/data')?.name)?.emptyDir, 'Deployment: /var/task/data (the serving database) must be a writable emptyDir');
    check(volume(mount('/tmp')?.name)?.emptyDir, 'Deployment: /tmp must be a writable emptyDir (read-only root)');
    for (const ref of c.envFrom ?? [])
      check(one('ConfigMap', ref.configMapRef?.name), `Deployment: envFrom names no ConfigMap ${ref.configMapRef?.name}`);
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
    const envFrom = Object.assign({}, ...(c.envFrom ?? []).map((r) => one('ConfigMap', r.configMapRef?.name)?.data ?? {}));
    for (const v of ['SNOWFLAKE_ACCOUNT', 'SNOWFLAKE_USER'])
      check(v in env || v in envFrom, `Deployment: ${v} is not set`);
    check(!('SNOWFLAKE_PRIVATE_KEY' in envFrom), 'the private key must come from the Secret, not a ConfigMap');
    // The key: a Secret volume whose file is SNOWFLAKE_PRIVATE_KEY_PATH.
    const keyPath = env.SNOWFLAKE_PRIVATE_KEY_PATH ?? '';
    const keyMount = mount(dirname(keyPath));
    const keyVolume = keyMount && volume(keyMount.name)?.secret;
    const secret = keyVolume && one('Secret', keyVolume.secretName);
    check(keyVolume, `Deployment: SNOWFLAKE_PRIVATE_KEY_PATH=${keyPath} is not in a Secret volume`);
    check(secret, `no Secret ${keyVolume?.secretName} (secret.yaml)`);
    const item = keyVolume?.items?.find((i) => i.path === basename(keyPath));
    check(item && secret && item.key in { ...secret.stringData, ...secret.data },
          `Deployment: the Secret ${keyVolume?.secretName} has no key for ${basename(keyPath)}`);
  }
  const service = one('Service');
  if (check(service, 'no Service')) {
    check(matches(service.spec.selector, labels) && Object.keys(service.spec.selector).length > 0,
          'Service: selector does not match the pod labels');
    for (const p of service.spec.ports)
      check(c?.ports?.some((cp) => cp.name === p.targetPort || cp.containerPort === p.targetPort),
            `Service: targetPort ${p.targetPort} is not a container port`);
  }
  const hpa = one('HorizontalPodAutoscaler');
  if (check(hpa, 'no HorizontalPodAutoscaler')) {
    const t = hpa.spec.scaleTargetRef;
    check(t.kind === 'Deployment' && t.name === deployment.metadata.name && t.apiVersion === 'apps/v1',
          'HorizontalPodAutoscaler: does not target the Deployment');
    check(hpa.spec.minReplicas >= 2, 'HorizontalPodAutoscaler: minReplicas below 2 leaves the PDB nothing to keep');
    check(hpa.spec.metrics?.length > 0, 'HorizontalPodAutoscaler: no metrics');
  }
  const pdb = one('PodDisruptionBudget');
  if (check(pdb, 'no PodDisruptionBudget'))
    check(matches(pdb.spec.selector.matchLabels, labels), 'PodDisruptionBudget: selector does not match the pod labels');
}

if (problems.length) {
  console.error('validate-kubernetes: problems:\n  ' + problems.join('\n  '));
  process.exit(1);
}
console.log(`  cross-checks ok: ${objects.length} objects in ${files.length} files`);
