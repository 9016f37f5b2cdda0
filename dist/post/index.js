import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
var __webpack_exports__ = {};

;// CONCATENATED MODULE: ./src/errors.ts
/**
 * An error the user can fix. Its message is one line that names the input (or the
 * thing to change) and the fix; main.ts reports it with core.setFailed and no stack.
 */
class UserError extends Error {
    constructor(message) {
        super(oneLine(message));
        this.name = 'UserError';
    }
}
/** No credentials could be found (a dry run then goes on without checking the registry). */
class MissingCredentialsError extends UserError {
    constructor(message) {
        super(message);
        this.name = 'MissingCredentialsError';
    }
}
/** Collapses whitespace so a message is always a single log line. */
function oneLine(text) {
    return text.replace(/\s+/g, ' ').trim();
}
function errorMessage(error) {
    return oneLine(error instanceof Error ? error.message : String(error));
}

;// CONCATENATED MODULE: external "node:fs/promises"
const promises_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs/promises");
;// CONCATENATED MODULE: ./src/constants.ts
/** Names that cross the boundary between action.yml, main and post. */
const Input = {
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
};
const Output = {
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
};
var State;
(function (State) {
    /** The job-private directory (registry login, scratch space) that the post step deletes. */
    State["PrivateDir"] = "registryConfigDir";
})(State || (State = {}));
const TOOL_NAME = 'helm';
const ACTION_NAME = 'helm-ecr-publish';
const USER_AGENT = (/* unused pure expression or super */ null && (`${ACTION_NAME}/0.1`));
/** Prefix of the job-private directory under RUNNER_TEMP; the post step deletes only such a directory. */
const PRIVATE_DIR_PREFIX = `${ACTION_NAME}-`;

;// CONCATENATED MODULE: ./src/runtime/log.ts
/*
 * The post step's log, on Node's built-ins only: a line on stdout, and a warning as the runner's
 * `::warning::` workflow command (the data escaped the way @actions/core escapes it, so a path
 * with a newline stays one annotation).
 */
function escapeData(text) {
    return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function info(message) {
    process.stdout.write(`${message}\n`);
}
function warning(message) {
    process.stdout.write(`::warning::${escapeData(message)}\n`);
}

;// CONCATENATED MODULE: external "node:os"
const external_node_os_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:os");
;// CONCATENATED MODULE: external "node:path"
const external_node_path_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:path");
;// CONCATENATED MODULE: ./src/runtime/paths.ts



/* Where things are: the workspace, RUNNER_TEMP, and whether one path lies inside another. */
/** The workspace: what the runner checked out, where charts are and nothing may leave. */
function workspaceDir() {
    return process.env.GITHUB_WORKSPACE || process.cwd();
}
/**
 * True when `target` is `root` or inside it. `p` is the path flavour: the runner's own by default;
 * tests pass `path.win32` to check Windows paths (other drive, UNC share, `..\\`) on Linux.
 */
function isInside(root, target, p = path) {
    const rel = p.relative(root, target);
    return !p.isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${p.sep}`);
}
/** The parent of job-private directories: RUNNER_TEMP, else the system temp directory. */
function privateDirParent() {
    return process.env.RUNNER_TEMP || external_node_os_namespaceObject.tmpdir();
}
/**
 * True when `dir` is a directory main could have made: a direct child of RUNNER_TEMP named
 * helm-ecr-publish-*. State can be edited by later steps; nothing else is ever deleted.
 */
function isPrivateDir(dir) {
    const resolved = external_node_path_namespaceObject.resolve(dir);
    return (external_node_path_namespaceObject.dirname(resolved) === external_node_path_namespaceObject.resolve(privateDirParent()) &&
        external_node_path_namespaceObject.basename(resolved).startsWith(PRIVATE_DIR_PREFIX) &&
        external_node_path_namespaceObject.basename(resolved).length > PRIVATE_DIR_PREFIX.length);
}

;// CONCATENATED MODULE: ./src/runtime/state.ts

/** The environment variable the runner sets for a saved state key. */
function stateVariable(key) {
    return `STATE_${key}`;
}
function readState(env = process.env) {
    return { privateDir: env[stateVariable(State.PrivateDir)] || undefined };
}

;// CONCATENATED MODULE: ./src/runtime/cleanup.ts






/**
 * The post step: deletes the job-private directory, which holds the registry login (Helm's
 * config file) and scratch space. It starts no process and only warns, so a cleanup problem
 * never fails a green job. Node's built-ins only (no @actions/core): the post bundle is a few
 * kilobytes and starts about as fast as `node -e 0`.
 */
async function cleanup() {
    const { privateDir } = readState();
    if (!privateDir)
        return;
    if (!isPrivateDir(privateDir)) {
        warning(`Not removing ${privateDir}: it is not a ${PRIVATE_DIR_PREFIX}* directory directly under RUNNER_TEMP (${privateDirParent()}).`);
        return;
    }
    try {
        await promises_namespaceObject.rm(privateDir, { recursive: true, force: true });
        info(`Removed the job's registry login (${privateDir})`);
    }
    catch (error) {
        warning(`Could not remove ${privateDir}: ${errorMessage(error)}`);
    }
}

;// CONCATENATED MODULE: ./src/post.ts



// No top-level await (webpack's async-module runtime would be most of this bundle); the post
// step only ever warns, even about a bug of its own.
cleanup().catch((error) => warning(`Cleanup failed: ${errorMessage(error)}`));

