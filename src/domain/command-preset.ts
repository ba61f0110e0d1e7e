/**
 * What Countersign knows of a program's command line, so that policy sees `cmd.verb`,
 * `cmd.resource`, `cmd.namespace` and `cmd.flags` as the program itself will read
 * them. A preset knows which flags take a value (so `-n shop` is a namespace, not a
 * positional), which are switches, and which are denied because they would change what
 * runs (another cluster, other credentials, another config file). Flags a strict
 * preset does not know are refused: an unknown flag could take a value and shift every
 * positional after it, so that policy would read another verb than the program runs.
 */

export const PRESET_NAMES = ['kubectl', 'helm', 'terraform', 'aws', 'generic'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** `value`: takes a value (`--x v` or `--x=v`); `switch`: none; `optional`: a value only with `=` (`--dry-run=server`). */
export type FlagArity = 'value' | 'switch' | 'optional';

export interface FlagSpec {
  /** The flag's long name without dashes: the key in `cmd.flags`. */
  name: string;
  arity: FlagArity;
}

/**
 * How the program reads its flags. `pflag`: GNU style as kubectl and helm (cobra/pflag):
 * `--name[=v]`, `-n v`, `-nv`, `-n=v`, grouped switches `-it`. `goflag`: Go's flag
 * package as terraform: one or two dashes, `-name=v` or `-name v`. `aws`: `--name v`,
 * any flag followed by a non-flag takes it as value except the known switches.
 * `generic`: a program nothing is known of: `--name=value` is a value, a bare flag a
 * switch, everything else a positional.
 */
export type FlagStyle = 'pflag' | 'goflag' | 'aws' | 'generic';

export interface Preset {
  name: PresetName;
  style: FlagStyle;
  /** Unknown flags are refused (aws and generic cannot know every flag of every operation). */
  strict: boolean;
  /** By spelling as written without dashes (`n`, `namespace`). */
  flags: ReadonlyMap<string, FlagSpec>;
  /** Per verb, flags that mean something else there (`kubectl logs -p` is `--previous`, a switch). */
  verbFlags?: Readonly<Record<string, ReadonlyMap<string, FlagSpec>>>;
  /** Denied flags (long name without dashes) and why. */
  denied: ReadonlyMap<string, string>;
  /** Verbs whose next positional is a sub-command (`kubectl rollout restart`, `terraform state rm`). */
  groups: ReadonlySet<string>;
  /** Which positional is the verb and which the resource: aws reads `aws <service> <operation>`. */
  layout: 'verb-first' | 'service-operation';
  /** The flag holding the namespace, and the switch meaning every namespace. */
  namespaceFlag?: string;
  allNamespacesFlag?: string;
  /** kubectl resource aliases → canonical plural (`deploy` → `deployments`). */
  resourceAliases?: ReadonlyMap<string, string>;
}

/** `"n|namespace"` → both spellings of one flag. */
function table(specs: Record<string, FlagArity>): Map<string, FlagSpec> {
  const m = new Map<string, FlagSpec>();
  for (const [spellings, arity] of Object.entries(specs)) {
    const names = spellings.split('|');
    const name = names[names.length - 1]!;
    for (const s of names) m.set(s, { name, arity });
  }
  return m;
}

const KUBE_CREDENTIALS = 'it chooses the cluster or the credentials, which the target sets';

const KUBECTL: Preset = {
  name: 'kubectl',
  style: 'pflag',
  strict: true,
  flags: table({
    'n|namespace': 'value',
    'A|all-namespaces': 'switch',
    'o|output': 'value',
    'f|filename': 'value',
    'k|kustomize': 'value',
    'l|selector': 'value',
    'R|recursive': 'switch',
    'field-selector': 'value',
    'dry-run': 'optional',
    replicas: 'value',
    'current-replicas': 'value',
    'resource-version': 'value',
    image: 'value',
    port: 'value',
    timeout: 'value',
    force: 'switch',
    'grace-period': 'value',
    cascade: 'optional',
    wait: 'optional',
    'server-side': 'switch',
    'field-manager': 'value',
    'force-conflicts': 'switch',
    overwrite: 'switch',
    all: 'switch',
    record: 'switch',
    type: 'value',
    'p|patch': 'value',
    'patch-file': 'value',
    local: 'switch',
    'show-labels': 'switch',
    'w|watch': 'switch',
    'sort-by': 'value',
    'c|container': 'value',
    tail: 'value',
    since: 'value',
    'i|stdin': 'switch',
    't|tty': 'switch',
    prune: 'switch',
    validate: 'optional',
    'show-managed-fields': 'switch',
    'to-revision': 'value',
    revision: 'value',
    min: 'value',
    max: 'value',
    'cpu-percent': 'value',
    'save-config': 'switch',
    template: 'value',
    'no-headers': 'switch',
    'ignore-not-found': 'switch',
    now: 'switch',
    'L|label-columns': 'value',
    'chunk-size': 'value',
    'request-timeout': 'value',
    v: 'value',
    'allow-missing-template-keys': 'optional',
    'show-kind': 'switch',
    'output-watch-events': 'switch',
    env: 'value',
    labels: 'value',
    'dry-run-server': 'switch',
    'delete-emptydir-data': 'switch',
    'ignore-daemonsets': 'switch',
    'disable-eviction': 'switch',
    'skip-wait-for-delete-timeout': 'value',
    'pod-running-timeout': 'value',
    'for': 'value',
    'sub-resource': 'value',
    subresource: 'value',
    raw: 'value',
  }),
  verbFlags: {
    logs: table({ 'p|previous': 'switch', 'f|follow': 'switch', timestamps: 'switch', 'limit-bytes': 'value', 'all-containers': 'switch', prefix: 'switch' }),
    exec: table({ 'c|container': 'value' }),
  },
  denied: new Map([
    ['kubeconfig', KUBE_CREDENTIALS],
    ['context', KUBE_CREDENTIALS],
    ['cluster', KUBE_CREDENTIALS],
    ['user', KUBE_CREDENTIALS],
    ['token', KUBE_CREDENTIALS],
    ['server', KUBE_CREDENTIALS],
    ['s', KUBE_CREDENTIALS],
    ['username', KUBE_CREDENTIALS],
    ['password', KUBE_CREDENTIALS],
    ['as', 'it impersonates another user or group'],
    ['as-group', 'it impersonates another user or group'],
    ['as-uid', 'it impersonates another user or group'],
    ['certificate-authority', KUBE_CREDENTIALS],
    ['client-certificate', KUBE_CREDENTIALS],
    ['client-key', KUBE_CREDENTIALS],
    ['insecure-skip-tls-verify', 'it turns off the verification of the cluster\'s certificate'],
    ['tls-server-name', KUBE_CREDENTIALS],
    ['cache-dir', 'it points kubectl at another cache, which can hold discovery data from elsewhere'],
  ]),
  groups: new Set(['rollout', 'set', 'config', 'auth', 'top', 'certificate']),
  layout: 'verb-first',
  namespaceFlag: 'namespace',
  allNamespacesFlag: 'all-namespaces',
  resourceAliases: new Map(
    Object.entries({
      po: 'pods', pod: 'pods', pods: 'pods',
      deploy: 'deployments', deployment: 'deployments', deployments: 'deployments',
      rs: 'replicasets', replicaset: 'replicasets', replicasets: 'replicasets',
      sts: 'statefulsets', statefulset: 'statefulsets', statefulsets: 'statefulsets',
      ds: 'daemonsets', daemonset: 'daemonsets', daemonsets: 'daemonsets',
      svc: 'services', service: 'services', services: 'services',
      cm: 'configmaps', configmap: 'configmaps', configmaps: 'configmaps',
      secret: 'secrets', secrets: 'secrets',
      ns: 'namespaces', namespace: 'namespaces', namespaces: 'namespaces',
      no: 'nodes', node: 'nodes', nodes: 'nodes',
      job: 'jobs', jobs: 'jobs',
      cj: 'cronjobs', cronjob: 'cronjobs', cronjobs: 'cronjobs',
      ing: 'ingresses', ingress: 'ingresses', ingresses: 'ingresses',
      pvc: 'persistentvolumeclaims', persistentvolumeclaim: 'persistentvolumeclaims', persistentvolumeclaims: 'persistentvolumeclaims',
      pv: 'persistentvolumes', persistentvolume: 'persistentvolumes', persistentvolumes: 'persistentvolumes',
      sa: 'serviceaccounts', serviceaccount: 'serviceaccounts', serviceaccounts: 'serviceaccounts',
      hpa: 'horizontalpodautoscalers', horizontalpodautoscaler: 'horizontalpodautoscalers', horizontalpodautoscalers: 'horizontalpodautoscalers',
      role: 'roles', roles: 'roles',
      rolebinding: 'rolebindings', rolebindings: 'rolebindings',
      clusterrole: 'clusterroles', clusterroles: 'clusterroles',
      clusterrolebinding: 'clusterrolebindings', clusterrolebindings: 'clusterrolebindings',
      crd: 'customresourcedefinitions', crds: 'customresourcedefinitions', customresourcedefinition: 'customresourcedefinitions', customresourcedefinitions: 'customresourcedefinitions',
      ep: 'endpoints', endpoints: 'endpoints',
      ev: 'events', event: 'events', events: 'events',
      netpol: 'networkpolicies', networkpolicy: 'networkpolicies', networkpolicies: 'networkpolicies',
      pdb: 'poddisruptionbudgets', poddisruptionbudget: 'poddisruptionbudgets', poddisruptionbudgets: 'poddisruptionbudgets',
    }),
  ),
};

const HELM_CREDENTIALS = 'it chooses the cluster, the credentials or the repository configuration, which the target sets';

const HELM: Preset = {
  name: 'helm',
  style: 'pflag',
  strict: true,
  flags: table({
    'n|namespace': 'value',
    'A|all-namespaces': 'switch',
    'f|values': 'value',
    set: 'value',
    'set-string': 'value',
    'set-json': 'value',
    'set-literal': 'value',
    version: 'value',
    'i|install': 'switch',
    atomic: 'switch',
    'rollback-on-failure': 'switch',
    wait: 'optional',
    'wait-for-jobs': 'switch',
    timeout: 'value',
    'dry-run': 'optional',
    debug: 'switch',
    'create-namespace': 'switch',
    'reuse-values': 'switch',
    'reset-values': 'switch',
    'reset-then-reuse-values': 'switch',
    force: 'switch',
    description: 'value',
    repo: 'value',
    devel: 'switch',
    'o|output': 'value',
    'history-max': 'value',
    'cleanup-on-fail': 'switch',
    'keep-history': 'switch',
    max: 'value',
    'a|all': 'switch',
    revision: 'value',
    'skip-crds': 'switch',
    'no-hooks': 'switch',
    'render-subchart-notes': 'switch',
    'dependency-update': 'switch',
    'disable-openapi-validation': 'switch',
    'g|generate-name': 'switch',
    'name-template': 'value',
    verify: 'switch',
    's|show-only': 'value',
    'include-crds': 'switch',
    'is-upgrade': 'switch',
    'api-versions': 'value',
    'kube-version': 'value',
    'skip-tests': 'switch',
    'l|selector': 'value',
    filter: 'value',
    deployed: 'switch',
    failed: 'switch',
    pending: 'switch',
    superseded: 'switch',
    uninstalled: 'switch',
    'q|short': 'switch',
    'm|max': 'value',
    'r|reverse': 'switch',
    'plain-http': 'switch',
    'cascade': 'value',
    'ignore-not-found': 'switch',
    'take-ownership': 'switch',
    'server-side': 'optional',
    'force-conflicts': 'switch',
    'enable-dns': 'switch',
    'hide-notes': 'switch',
    'skip-schema-validation': 'switch',
  }),
  denied: new Map([
    ['kubeconfig', HELM_CREDENTIALS],
    ['kube-context', HELM_CREDENTIALS],
    ['kube-token', HELM_CREDENTIALS],
    ['kube-apiserver', HELM_CREDENTIALS],
    ['kube-as-user', 'it impersonates another user or group'],
    ['kube-as-group', 'it impersonates another user or group'],
    ['kube-ca-file', HELM_CREDENTIALS],
    ['kube-insecure-skip-tls-verify', 'it turns off the verification of the cluster\'s certificate'],
    ['kube-tls-server-name', HELM_CREDENTIALS],
    ['registry-config', HELM_CREDENTIALS],
    ['repository-config', HELM_CREDENTIALS],
    ['repository-cache', HELM_CREDENTIALS],
    ['username', HELM_CREDENTIALS],
    ['password', HELM_CREDENTIALS],
    ['pass-credentials', HELM_CREDENTIALS],
    ['cert-file', HELM_CREDENTIALS],
    ['key-file', HELM_CREDENTIALS],
    ['ca-file', HELM_CREDENTIALS],
    ['keyring', HELM_CREDENTIALS],
    ['insecure-skip-tls-verify', 'it turns off the verification of the repository\'s certificate'],
    ['post-renderer', 'it runs another program on the rendered manifests'],
    ['post-renderer-args', 'it runs another program on the rendered manifests'],
    ['set-file', 'it reads a file of the host that runs the command into the release'],
  ]),
  groups: new Set(['get', 'repo', 'plugin', 'dependency', 'registry', 'search', 'show', 'env']),
  layout: 'verb-first',
  namespaceFlag: 'namespace',
  allNamespacesFlag: 'all-namespaces',
};

const TERRAFORM: Preset = {
  name: 'terraform',
  style: 'goflag',
  strict: true,
  flags: table({
    'auto-approve': 'switch',
    input: 'optional',
    'no-color': 'switch',
    var: 'value',
    'var-file': 'value',
    target: 'value',
    replace: 'value',
    out: 'value',
    lock: 'optional',
    'lock-timeout': 'value',
    refresh: 'optional',
    'refresh-only': 'switch',
    destroy: 'switch',
    parallelism: 'value',
    'compact-warnings': 'switch',
    json: 'switch',
    'detailed-exitcode': 'switch',
    upgrade: 'switch',
    reconfigure: 'switch',
    'migrate-state': 'switch',
    backend: 'optional',
    get: 'optional',
    'force-copy': 'switch',
    check: 'switch',
    recursive: 'switch',
    diff: 'switch',
    write: 'optional',
    list: 'optional',
    raw: 'switch',
    'generate-config-out': 'value',
    'show-sensitive': 'switch',
    force: 'switch',
    'dry-run': 'switch',
    'allow-missing': 'switch',
  }),
  denied: new Map([
    ['chdir', 'it runs terraform in another directory than the target\'s'],
    ['state', 'it reads or writes another state file than the target\'s'],
    ['state-out', 'it reads or writes another state file than the target\'s'],
    ['backup', 'it reads or writes another state file than the target\'s'],
    ['backend-config', 'it points terraform at another backend, with other credentials'],
    ['plugin-dir', 'it loads providers from another directory'],
  ]),
  groups: new Set(['state', 'workspace', 'providers', 'metadata']),
  layout: 'verb-first',
};

const AWS: Preset = {
  name: 'aws',
  style: 'aws',
  strict: false,
  flags: table({
    region: 'value',
    output: 'value',
    query: 'value',
    debug: 'switch',
    'no-paginate': 'switch',
    'no-cli-pager': 'switch',
    'dry-run': 'switch',
    'no-dry-run': 'switch',
    'cli-read-timeout': 'value',
    'cli-connect-timeout': 'value',
    'color': 'value',
    'no-sign-request': 'switch',
    force: 'switch',
    recursive: 'switch',
    'cli-auto-prompt': 'switch',
    'no-cli-auto-prompt': 'switch',
  }),
  denied: new Map([
    ['profile', 'it chooses other credentials than the target\'s'],
    ['endpoint-url', 'it sends the call (and the credentials\' signature) to another endpoint'],
    ['no-verify-ssl', 'it turns off the verification of the service\'s certificate'],
    ['ca-bundle', 'it trusts other certificate authorities'],
    ['cli-input-json', 'it reads the call\'s parameters from a file or text policy cannot see as flags'],
    ['cli-input-yaml', 'it reads the call\'s parameters from a file or text policy cannot see as flags'],
  ]),
  groups: new Set(),
  layout: 'service-operation',
};

const GENERIC: Preset = {
  name: 'generic',
  style: 'generic',
  strict: false,
  flags: new Map(),
  denied: new Map([
    ['kubeconfig', 'it chooses other credentials or another configuration than the target\'s'],
    ['context', 'it chooses other credentials or another configuration than the target\'s'],
    ['token', 'it chooses other credentials or another configuration than the target\'s'],
    ['config', 'it chooses other credentials or another configuration than the target\'s'],
    ['c', 'it chooses another configuration file (or, for some programs, a command to run)'],
  ]),
  groups: new Set(),
  layout: 'verb-first',
};

export const PRESETS: Record<PresetName, Preset> = { kubectl: KUBECTL, helm: HELM, terraform: TERRAFORM, aws: AWS, generic: GENERIC };

/**
 * A target may tell a preset more: extra flags with their arity, and denied flags it
 * allows (`allowFlags: [context]` for a target whose kubeconfig has several contexts).
 */
export function customizePreset(p: Preset, extra: { flags?: Record<string, FlagArity> | undefined; allowFlags?: readonly string[] | undefined }): Preset {
  if (!extra.flags && !extra.allowFlags?.length) return p;
  const flags = new Map(p.flags);
  for (const [k, v] of table(Object.fromEntries(Object.entries(extra.flags ?? {}).map(([f, a]) => [f.replace(/^-+/, ''), a])))) flags.set(k, v);
  const denied = new Map(p.denied);
  for (const f of extra.allowFlags ?? []) {
    denied.delete(f.replace(/^-+/, ''));
    if (!flags.has(f.replace(/^-+/, ''))) flags.set(f.replace(/^-+/, ''), { name: f.replace(/^-+/, ''), arity: 'value' });
  }
  return { ...p, flags, denied };
}
