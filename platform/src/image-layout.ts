/**
 * The layout of the switchforge images (images/Containerfile, images/Containerfile.audio): where
 * the compiled entry points and the Python environment are, so the operator's defaults, the
 * chart's values and the image tests name the same paths. The chart's values.yaml repeats these
 * commands (YAML imports nothing); e2e/src/chart/chart.test.ts checks they agree.
 */

/**
 * The images' default references: the chart's `image.repository` and appVersion (images/build.sh
 * tags what it builds with these; the chart test checks they agree).
 */
export const DEFAULT_IMAGES = {
  app: 'ghcr.io/switchforge/switchforge:0.1.0',
  audio: 'ghcr.io/switchforge/switchforge-audio:0.1.0',
} as const;

/** The image's WORKDIR: the repository's package.json files, dist/ folders, proto/ and node_modules. */
export const APP_ROOT = '/app';

/**
 * The Node.js condition that selects a workspace package's compiled `dist/` in its `exports`
 * (the default is its TypeScript sources, which tests and `npm run up` run through tsx).
 */
export const COMPILED_CONDITION = 'production';

const node = ['node', `--conditions=${COMPILED_CONDITION}`] as const;

/** The containers' commands: compiled JavaScript run by plain node, no tsx. */
export const IMAGE_COMMANDS = {
  operator: [...node, `${APP_ROOT}/operator/dist/main.js`],
  api: [...node, `${APP_ROOT}/api/dist/main.js`],
  /** V8 flags come per worker from its Device's memory plan (NODE_OPTIONS, platform/src/worker-memory.ts). */
  deviceWorker: [...node, `${APP_ROOT}/worker/dist/main.js`, 'device'],
  audioWorker: [...node, `${APP_ROOT}/worker/dist/audio/run.js`],
} as const satisfies Record<string, readonly string[]>;

/** The audio image's Python environment (python-workers' venv) and the scripts it runs. */
export const AUDIO_PYTHON = '/opt/python-workers/bin/python';
export const AUDIO_PYTHON_CWD = `${APP_ROOT}/python-workers`;

/** The images' numeric user and group (non-root; the chart's securityContext runs as it). */
export const IMAGE_UID = 65532;

/**
 * The pod securityContext of every pod the operator creates, the chart's podSecurityContext:
 * the image's user, and its group owning the mounted Secrets (fsGroup), so that they can be read
 * at 0440 without being world-readable.
 */
export const POD_SECURITY_CONTEXT = {
  runAsNonRoot: true,
  runAsUser: IMAGE_UID,
  runAsGroup: IMAGE_UID,
  fsGroup: IMAGE_UID,
  seccompProfile: { type: 'RuntimeDefault' },
} as const;

/** The container securityContext: read-only root, no privilege escalation, no capabilities. */
export const CONTAINER_SECURITY_CONTEXT = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
} as const;

/** Mode of mounted Secret files: the owner and the pod's fsGroup read them, nobody else. */
export const SECRET_FILE_MODE = 0o440;
