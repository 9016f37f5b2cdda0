/** Names that cross the boundary between action.yml, main and post. */

export const Input = {
  Charts: 'charts',
  Registry: 'registry',
  Namespace: 'namespace',
  Region: 'region',
  Version: 'version',
  AppVersion: 'app-version',
  HelmVersion: 'helm-version',
  HelmDownloadUrl: 'helm-download-url',
  HelmSha256: 'helm-sha256',
  CreateRepository: 'create-repository',
  ImageTagMutability: 'image-tag-mutability',
  RepositoryTags: 'repository-tags',
  ScanOnPush: 'scan-on-push',
  KmsKey: 'kms-key',
  LifecyclePolicy: 'lifecycle-policy',
  PullAccounts: 'pull-accounts',
  SkipExisting: 'skip-existing',
  MaxParallel: 'max-parallel',
  Username: 'username',
  Password: 'password',
  PlainHttp: 'plain-http',
  InsecureSkipTlsVerify: 'insecure-skip-tls-verify',
  CaFile: 'ca-file',
  Attest: 'attest',
  GithubToken: 'github-token',
  SigningKey: 'signing-key',
  SigningPassphrase: 'signing-passphrase',
  DryRun: 'dry-run'
} as const

export const Output = {
  Ref: 'ref',
  Digest: 'digest',
  Repository: 'repository',
  Chart: 'chart',
  Version: 'version',
  Registry: 'registry',
  Pushed: 'pushed',
  HelmVersion: 'helm-version',
  Charts: 'charts',
  AttestationDigest: 'attestation-digest',
  AttestationUrl: 'attestation-url',
  SigningKeyFingerprint: 'signing-key-fingerprint'
} as const

export enum State {
  /** The job-private directory (registry login, scratch space) that the post step deletes. */
  PrivateDir = 'registryConfigDir'
}

export const TOOL_NAME = 'helm'
export const ACTION_NAME = 'helm-ecr-publish'
export const USER_AGENT = `${ACTION_NAME}/0.1`
/** Prefix of the job-private directory under RUNNER_TEMP; the post step deletes only such a directory. */
export const PRIVATE_DIR_PREFIX = `${ACTION_NAME}-`
