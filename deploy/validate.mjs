// Checks of deploy/validate.sh: the CloudFormation that `serverless package` generated, and the
// SAM template parsed with CloudFormation's short-form tags. Every route of the config must be
// a GET method; runtime, handler, timeout and the SNOWFLAKE_* environment must be there.
// Usage: node deploy/validate.mjs <generated.json> <template.yaml> <config.yaml>
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';

const require = createRequire(process.env.NODE_PATH + '/');
const yaml = require('js-yaml');
const [generatedPath, samPath, configPath] = process.argv.slice(2);
const problems = [];
const check = (ok, what) => { if (!ok) problems.push(what); };

const routes = yaml.load(readFileSync(configPath, 'utf8')).endpoints.map((e) => e.path).sort();
const snowflakeVars = ['SNOWFLAKE_ACCOUNT', 'SNOWFLAKE_USER', 'SNOWFLAKE_PRIVATE_KEY', 'SNOWFLAKE_DATABASE',
                       'SNOWFLAKE_SCHEMA', 'SNOWFLAKE_WAREHOUSE'];

// 1. The generated stack.
const cf = JSON.parse(readFileSync(generatedPath, 'utf8')).Resources;
const fns = Object.values(cf).filter((r) => r.Type === 'AWS::Lambda::Function');
check(fns.length === 1, `serverless: expected one Lambda function, got ${fns.length}`);
const fn = fns[0]?.Properties ?? {};
check(fn.Runtime === 'provided.al2023', `serverless: Runtime is ${fn.Runtime}`);
check(fn.Handler === 'bootstrap', `serverless: Handler is ${fn.Handler}`);
check(fn.Timeout >= 1 && fn.Timeout <= 29, `serverless: Timeout ${fn.Timeout} is not within API Gateway's 29 s`);
check(JSON.stringify(fn.Architectures ?? ['x86_64']) === '["x86_64"]', `serverless: Architectures ${fn.Architectures}`);
check(String(fn.Code?.S3Key ?? '').endsWith('frost-lambda.zip'), `serverless: code is ${JSON.stringify(fn.Code)}`);
for (const v of snowflakeVars) check(v in (fn.Environment?.Variables ?? {}), `serverless: environment lacks ${v}`);
const pathOf = (ref) => {
  if (ref?.['Fn::GetAtt']?.[1] === 'RootResourceId') return '';
  const r = cf[ref?.Ref];
  if (!r) return '?';
  return pathOf(r.Properties.ParentId) + '/' + r.Properties.PathPart;
};
const methods = Object.values(cf).filter((r) => r.Type === 'AWS::ApiGateway::Method' && r.Properties.HttpMethod === 'GET')
  .map((m) => pathOf(m.Properties.ResourceId) || '/').sort();
check(JSON.stringify(methods) === JSON.stringify(routes),
      `serverless: GET methods ${JSON.stringify(methods)} differ from the config's routes ${JSON.stringify(routes)}`);
for (const m of Object.values(cf).filter((r) => r.Type === 'AWS::ApiGateway::Method' && r.Properties.HttpMethod === 'GET'))
  check(m.Properties.Integration?.Type === 'AWS_PROXY', 'serverless: a GET method is not a Lambda proxy integration');

// Snapshot IAM (docs/snapshots.md): object actions only, on the prefix only; nothing wider.
function checkSnapshotIam(who, statements, bucket) {
  const text = JSON.stringify(statements);
  check(!/s3:\*|"\*"/.test(text), `${who}: snapshot IAM must not grant s3:* or Resource "*"`);
  const objects = statements.find((st) => JSON.stringify(st.Action) === '["s3:GetObject","s3:PutObject"]');
  check(objects && JSON.stringify(objects.Resource).includes(bucket) && JSON.stringify(objects.Resource).includes('*'),
        `${who}: expected s3:GetObject and s3:PutObject on the snapshot prefix`);
  const list = statements.find((st) => JSON.stringify(st.Action) === '["s3:ListBucket"]');
  check(list && JSON.stringify(list.Condition ?? {}).includes('s3:prefix'), `${who}: ListBucket must be limited to the prefix`);
}
check(Object.values(cf).some((r) => r.Type === 'AWS::S3::Bucket'), 'serverless: no snapshot bucket');
check(Object.values(cf).some((r) => r.Type === 'AWS::Events::Rule' && /^rate\(/.test(r.Properties?.ScheduleExpression ?? '')),
      'serverless: no scheduled EventBridge rule for the snapshot sync');
check('FROST_SNAPSHOTS_URL' in (fn.Environment?.Variables ?? {}), 'serverless: environment lacks FROST_SNAPSHOTS_URL');
{
  const role = Object.values(cf).find((r) => r.Type === 'AWS::IAM::Role');
  const statements = (role?.Properties?.Policies ?? []).flatMap((pol) => pol.PolicyDocument?.Statement ?? [])
    .filter((st) => JSON.stringify(st.Action).includes('s3:'));
  checkSnapshotIam('serverless', statements, 'SnapshotBucket');
}

// 2. The SAM template, with CloudFormation's tags.
const tag = (name, kind) => new yaml.Type('!' + name, { kind, construct: (data) => ({ [name === 'Ref' ? 'Ref' : 'Fn::' + name]: data }) });
const schema = yaml.DEFAULT_SCHEMA.extend(['Ref', 'Sub', 'GetAtt', 'If', 'Not', 'Equals', 'Join', 'Select', 'Split', 'FindInMap',
  'Base64', 'Cidr', 'ImportValue', 'GetAZs', 'And', 'Or', 'Condition']
  .flatMap((n) => ['scalar', 'sequence', 'mapping'].map((k) => tag(n, k))));
const sam = yaml.load(readFileSync(samPath, 'utf8'), { schema });
check(sam.Transform === 'AWS::Serverless-2016-10-31', 'sam: Transform is not AWS::Serverless-2016-10-31');
const samFns = Object.entries(sam.Resources ?? {}).filter(([, r]) => r.Type === 'AWS::Serverless::Function');
check(samFns.length === 1, `sam: expected one AWS::Serverless::Function, got ${samFns.length}`);
const [, samFn] = samFns[0] ?? [, { Properties: {} }];
const p = { ...(sam.Globals?.Function ?? {}), ...samFn.Properties };
check(p.Runtime === 'provided.al2023', `sam: Runtime is ${p.Runtime}`);
check(p.Handler === 'bootstrap', `sam: Handler is ${p.Handler}`);
check(p.Timeout >= 1 && p.Timeout <= 29, `sam: Timeout ${p.Timeout}`);
check(JSON.stringify(p.Architectures) === '["x86_64"]', `sam: Architectures ${p.Architectures}`);
check(resolve(dirname(samPath), p.CodeUri) === resolve('frost-lambda.zip'), `sam: CodeUri ${p.CodeUri} is not the package`);
for (const v of snowflakeVars) check(v in (p.Environment?.Variables ?? {}), `sam: environment lacks ${v}`);
const allEvents = Object.values(p.Events ?? {});
const events = allEvents.filter((e) => e.Type === 'Api');
check(events.every((e) => e.Properties.Method === 'GET'), 'sam: every Api event must be a GET');
const schedules = allEvents.filter((e) => e.Type === 'Schedule');
check(schedules.length === 1 && allEvents.length === events.length + 1,
      'sam: expected the Api events and one Schedule event (the snapshot sync)');
checkSnapshotIam('sam', p.Policies?.[0]?.Statement ?? [], 'SnapshotBucket');
check(sam.Resources?.SnapshotBucket?.Type === 'AWS::S3::Bucket', 'sam: no SnapshotBucket');
check('FROST_SNAPSHOTS_URL' in (p.Environment?.Variables ?? {}), 'sam: environment lacks FROST_SNAPSHOTS_URL');
const samRoutes = events.map((e) => e.Properties.Path).sort();
check(JSON.stringify(samRoutes) === JSON.stringify(routes),
      `sam: event paths ${JSON.stringify(samRoutes)} differ from the config's routes ${JSON.stringify(routes)}`);
// Every !Ref, ${Name} in !Sub and condition name must exist.
const known = new Set([...Object.keys(sam.Parameters ?? {}), ...Object.keys(sam.Resources ?? {}),
  'AWS::Region', 'AWS::AccountId', 'AWS::StackName', 'AWS::Partition', 'AWS::URLSuffix', 'ServerlessRestApi']);
const conditions = new Set(Object.keys(sam.Conditions ?? {}));
const walk = (node) => {
  if (Array.isArray(node)) return node.forEach(walk);
  if (!node || typeof node !== 'object') return;
  if ('Ref' in node) check(known.has(node.Ref), `sam: !Ref ${node.Ref} names nothing`);
  if ('Fn::Sub' in node) {
    const text = Array.isArray(node['Fn::Sub']) ? node['Fn::Sub'][0] : node['Fn::Sub'];
    for (const [, name] of String(text).matchAll(/\$\{([^}!]+)\}/g))
      check(known.has(name.split('.')[0]), `sam: \${${name}} in !Sub names nothing`);
  }
  if ('Fn::If' in node) check(conditions.has(node['Fn::If'][0]), `sam: condition ${node['Fn::If'][0]} is not declared`);
  Object.values(node).forEach(walk);
};
walk(sam.Resources);
walk(sam.Outputs);

if (problems.length) {
  console.error(problems.map((m) => 'validate: ' + m).join('\n'));
  process.exit(1);
}
console.error(`validate: ${routes.length} routes in both templates; runtime, handler, timeout and environment checked`);
