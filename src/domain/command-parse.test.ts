import { describe, expect, it } from 'vitest';
import { parseCommand } from './command-parse.js';
import { customizePreset, PRESETS } from './command-preset.js';
import type { PresetName } from './command-preset.js';

const split = (line: string) => line.split(' ').slice(1);
const parse = (preset: PresetName, line: string) => {
  const r = parseCommand(PRESETS[preset], split(line));
  if (!r.ok) throw new Error(r.message);
  return r.parsed;
};
const refusal = (preset: PresetName, line: string) => {
  const r = parseCommand(PRESETS[preset], split(line));
  if (r.ok) throw new Error(`accepted: ${line}`);
  return r;
};

// Command lines recorded from runbooks and CI logs, with what the program itself reads.
describe('the kubectl preset reads command lines as kubectl does', () => {
  it.each([
    ['kubectl scale deploy/web --replicas=0 -n shop', { verb: 'scale', resource: 'deployments', name: 'web', namespace: 'shop', flags: { replicas: '0', namespace: 'shop' } }],
    ['kubectl -n shop scale deployment web --replicas 3', { verb: 'scale', resource: 'deployments', name: 'web', namespace: 'shop', flags: { replicas: '3' } }],
    ['kubectl rollout restart deployment/api -nprod', { verb: 'rollout', subcommand: 'restart', resource: 'deployments', name: 'api', namespace: 'prod' }],
    ['kubectl delete pods --all -A', { verb: 'delete', resource: 'pods', namespace: '*', flags: { all: true, 'all-namespaces': true } }],
    ['kubectl apply -f manifest.yaml --dry-run=server -o yaml', { verb: 'apply', resource: '', flags: { filename: 'manifest.yaml', 'dry-run': 'server', output: 'yaml' } }],
    ['kubectl create deployment web --image=nginx --dry-run=client -o yaml', { verb: 'create', resource: 'deployments', name: 'web', flags: { image: 'nginx', 'dry-run': 'client' } }],
    ['kubectl get svc,deploy -l app=web -o wide', { verb: 'get', resource: 'services,deployments', flags: { selector: 'app=web', output: 'wide' } }],
    ['kubectl logs web-7d4b9 -p -c app --tail 100', { verb: 'logs', resource: 'web-7d4b9', flags: { previous: true, container: 'app', tail: '100' } }],
    ['kubectl patch deploy web -p {"spec":{"replicas":2}} --type merge', { verb: 'patch', resource: 'deployments', name: 'web', flags: { patch: '{"spec":{"replicas":2}}', type: 'merge' } }],
    ['kubectl exec -it web-1 -- sh -c id', { verb: 'exec', resource: 'web-1', flags: { stdin: true, tty: true }, positionals: ['web-1', 'sh', '-c', 'id'] }],
    ['kubectl delete deployments.apps/web -n shop --grace-period=0 --force', { verb: 'delete', resource: 'deployments', name: 'web', namespace: 'shop', flags: { 'grace-period': '0', force: true } }],
  ])('%s', (line, expected) => {
    expect(parse('kubectl', line)).toMatchObject(expected);
  });

  it('a repeated namespace flag counts as the last one, as kubectl reads it, and both values are in the flags', () => {
    const p = parse('kubectl', 'kubectl get pods -n a -n b');
    expect(p.namespace).toBe('b');
    expect(p.flags.namespace).toEqual(['a', 'b']);
  });

  it.each([
    ['kubectl get pods --kubeconfig /tmp/other', '--kubeconfig'],
    ['kubectl get pods --kubeconfig=/tmp/other', '--kubeconfig'],
    ['kubectl --context prod-admin delete ns shop', '--context'],
    ['kubectl get pods --token=abc', '--token'],
    ['kubectl get pods -s https://evil:6443', '-s'],
    ['kubectl get pods --as=system:admin', '--as'],
  ])('denies %s, naming the flag and why', (line, flag) => {
    const r = refusal('kubectl', line);
    expect(r.code).toBe('COMMAND_FLAG_DENIED');
    expect(r.flag).toBe(flag);
    expect(r.message).toMatch(/denied by the kubectl preset: it/);
  });

  it('refuses a flag it does not know: it could take a value and shift the verb', () => {
    const r = refusal('kubectl', 'kubectl --frobnicate delete ns shop');
    expect(r).toMatchObject({ code: 'COMMAND_UNKNOWN_FLAG', flag: '--frobnicate' });
  });

  it('a flag the target declares is known; a denied flag the target allows is accepted', () => {
    const p = customizePreset(PRESETS.kubectl, { flags: { '--frobnicate': 'value' }, allowFlags: ['--context'] });
    const r = parseCommand(p, ['--frobnicate', 'x', '--context', 'blue', 'get', 'pods']);
    expect(r.ok && r.parsed).toMatchObject({ verb: 'get', resource: 'pods', flags: { frobnicate: 'x', context: 'blue' } });
  });

  it('a value flag at the end with no value is refused as malformed argv', () => {
    expect(refusal('kubectl', 'kubectl get pods -n').code).toBe('COMMAND_INVALID_ARGV');
  });
});

describe('the helm preset', () => {
  it.each([
    ['helm upgrade --install web bitnami/nginx -n shop --set image.tag=1.2 --set replicas=2 --wait --timeout 5m', { verb: 'upgrade', resource: 'web', name: 'bitnami/nginx', namespace: 'shop', flags: { install: true, set: ['image.tag=1.2', 'replicas=2'], wait: true, timeout: '5m' } }],
    ['helm uninstall web -n shop', { verb: 'uninstall', resource: 'web', namespace: 'shop' }],
    ['helm get values web -n shop -o yaml', { verb: 'get', subcommand: 'values', resource: 'web' }],
    ['helm rollback web 3 --wait', { verb: 'rollback', resource: 'web', name: '3' }],
    ['helm upgrade web ./chart -f values-prod.yaml --dry-run=server', { verb: 'upgrade', flags: { values: 'values-prod.yaml', 'dry-run': 'server' } }],
  ])('%s', (line, expected) => {
    expect(parse('helm', line)).toMatchObject(expected);
  });

  it.each([
    ['helm upgrade web ./chart --kube-context admin', '--kube-context'],
    ['helm upgrade web ./chart --post-renderer ./steal.sh', '--post-renderer'],
    ['helm install web ./chart --set-file cert=/etc/shadow', '--set-file'],
    ['helm list --kubeconfig=/tmp/k', '--kubeconfig'],
  ])('denies %s', (line, flag) => {
    expect(refusal('helm', line)).toMatchObject({ code: 'COMMAND_FLAG_DENIED', flag });
  });
});

describe('the terraform preset reads Go-style flags', () => {
  it.each([
    ['terraform plan -no-color -input=false -var region=eu-west-1 -var env=prod', { verb: 'plan', flags: { 'no-color': true, input: 'false', var: ['region=eu-west-1', 'env=prod'] } }],
    ['terraform apply -auto-approve -no-color', { verb: 'apply', flags: { 'auto-approve': true } }],
    ['terraform apply -target=module.db -auto-approve', { verb: 'apply', flags: { target: 'module.db' } }],
    ['terraform state rm aws_instance.web', { verb: 'state', subcommand: 'rm', resource: 'aws_instance.web' }],
    ['terraform destroy --auto-approve', { verb: 'destroy', flags: { 'auto-approve': true } }],
  ])('%s', (line, expected) => {
    expect(parse('terraform', line)).toMatchObject(expected);
  });

  it.each([
    ['terraform -chdir=/etc apply', '-chdir'],
    ['terraform apply -state=/tmp/other.tfstate', '-state'],
    ['terraform init -backend-config=creds.hcl', '-backend-config'],
  ])('denies %s', (line, flag) => {
    expect(refusal('terraform', line)).toMatchObject({ code: 'COMMAND_FLAG_DENIED', flag });
  });
});

describe('the aws preset reads `aws <service> <operation>`', () => {
  it.each([
    ['aws iam attach-role-policy --role-name deploy --policy-arn arn:aws:iam::aws:policy/AdministratorAccess', { resource: 'iam', verb: 'attach-role-policy', flags: { 'role-name': 'deploy', 'policy-arn': 'arn:aws:iam::aws:policy/AdministratorAccess' } }],
    ['aws ec2 terminate-instances --instance-ids i-1 i-2 --region eu-west-1 --dry-run', { resource: 'ec2', verb: 'terminate-instances', flags: { 'instance-ids': ['i-1', 'i-2'], region: 'eu-west-1', 'dry-run': true } }],
    ['aws s3 cp s3://bucket/a.txt out.txt', { resource: 's3', verb: 'cp', positionals: ['s3://bucket/a.txt', 'out.txt'] }],
    ['aws --region us-east-1 sts get-caller-identity', { resource: 'sts', verb: 'get-caller-identity' }],
  ])('%s', (line, expected) => {
    expect(parse('aws', line)).toMatchObject(expected);
  });

  it.each([
    ['aws s3 ls --profile admin', '--profile'],
    ['aws s3 ls --endpoint-url https://collector.example', '--endpoint-url'],
  ])('denies %s', (line, flag) => {
    expect(refusal('aws', line)).toMatchObject({ code: 'COMMAND_FLAG_DENIED', flag });
  });
});

describe('the generic preset', () => {
  it('reads --name=value as a value, bare flags as switches, the first positional as the verb', () => {
    expect(parse('generic', 'deploy.sh rollout --env=prod --verbose web')).toMatchObject({ verb: 'rollout', resource: 'web', flags: { env: 'prod', verbose: true } });
  });

  it.each([
    ['psql -c drop', '-c'],
    ['tool -cother.conf run', '-cother.conf'],
    ['tool --config=/tmp/x run', '--config'],
  ])('denies %s', (line, flag) => {
    expect(refusal('generic', line)).toMatchObject({ code: 'COMMAND_FLAG_DENIED', flag });
  });
});
