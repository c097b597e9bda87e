/**
 * A separate worker process for the "worker killed mid-activity" test: it polls only the
 * processing queue so the test can SIGKILL it while a separation runs.
 * argv: <temporal address> <namespace> <queue prefix> <storage root> <python cwd>
 */
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../activities.js';
import { DEFAULT_HTTP_LIMITS } from '../sources/http.js';
import { runAudioWorkers } from '../worker.js';
import { MemoryResultSink } from './memory-sink.js';

const [address, namespace, queuePrefix, storageRoot, pythonCwd] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
Runtime.install({ logger: new DefaultLogger('ERROR') });
const connection = await NativeConnection.connect({ address });
const workers = await runAudioWorkers({
  connection,
  namespace,
  queuePrefix,
  roles: ['process'],
  identity: `child-${process.pid}`,
  activities: createActivities({
    storageRoot,
    pythonPath: 'python3',
    pythonCwd,
    httpLimits: DEFAULT_HTTP_LIMITS,
    resultSink: new MemoryResultSink(),
  }),
});
process.stdout.write('ready\n');
await workers.done;
