/*
 * The environment of every process the action starts (Helm, and whatever Helm starts: plugins,
 * credential helpers). The runner's environment carries AWS credentials, GITHUB_TOKEN, the
 * ACTIONS_* runtime and OIDC tokens and every INPUT_* (the registry password among them); a child
 * needs none of them. One allow-list, so a new secret in the runner's environment stays out by
 * default.
 */

/** Variables kept by exact name (compared case-insensitively: Windows spells them as it likes). */
const KEEP = new Set(
  [
    'PATH',
    'HOME',
    // Proxies: Go's net/http reads both spellings.
    'HTTPS_PROXY',
    'HTTP_PROXY',
    'NO_PROXY',
    // Certificate authorities (a TLS-inspecting proxy needs them).
    'SSL_CERT_FILE',
    'SSL_CERT_DIR',
    'AWS_CA_BUNDLE',
    'NODE_EXTRA_CA_CERTS',
    'TMPDIR',
    'TMP',
    'TEMP',
    'LANG',
    'DOCKER_CONFIG',
    // Windows: processes fail in odd ways without these.
    'SYSTEMROOT',
    'COMSPEC',
    'PATHEXT',
    'USERPROFILE',
    'APPDATA',
    'LOCALAPPDATA',
    'PROGRAMDATA',
    'WINDIR'
  ].map(name => name.toUpperCase())
)

/** Variables kept by prefix: Helm's own settings, locale, XDG base directories. */
const KEEP_PREFIXES = ['HELM_', 'LC_', 'XDG_']

/**
 * Never kept, even under a kept prefix: names that look like a secret (HELM_REPO_PASS, a
 * HELM_PLUGIN_PASSWORD, an XDG_..._TOKEN, MY_API_KEY, GH_PAT...), and Helm's Kubernetes and
 * storage-driver settings (HELM_KUBETOKEN, HELM_DRIVER_SQL_CONNECTION_STRING with its password):
 * packaging and pushing never talk to a cluster.
 */
const SECRET_LOOKING = [
  /TOKEN|SECRET|PASS|CREDENTIAL|AUTH|PRIVATE|COOKIE|SESSION|CONNECTION_STRING/,
  /(^|_)(KEY|KEYS|APIKEY|PAT|PWD|CERT_KEY)$/,
  /(^|_)KEY_/,
  /^HELM_KUBE|^HELM_DRIVER/
]

/** Whether a child process may see the variable `name`. */
export function isChildVariable(name: string): boolean {
  const upper = name.toUpperCase()
  if (SECRET_LOOKING.some(pattern => pattern.test(upper))) return false
  return KEEP.has(upper) || KEEP_PREFIXES.some(prefix => upper.startsWith(prefix))
}

/**
 * Whether a child other than Helm (git, Windows' tar) may see `name`: the same, without
 * HELM_*; git has no use for Helm's settings.
 */
export function isToolVariable(name: string): boolean {
  return isChildVariable(name) && !name.toUpperCase().startsWith('HELM_')
}

/**
 * The allow-listed part of `env` (the runner's environment by default), with `extra` laid over
 * it (e.g. the job-private HELM_REGISTRY_CONFIG). `keep` is isToolVariable for children that
 * are not Helm.
 */
export function childEnv(
  env: NodeJS.ProcessEnv = process.env,
  extra: Record<string, string> = {},
  keep: (name: string) => boolean = isChildVariable
): Record<string, string> {
  const kept: Record<string, string> = {}
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && keep(name)) kept[name] = value
  }
  return { ...kept, ...extra }
}
