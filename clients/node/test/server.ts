/*
 * server.ts - real redis-server processes with atomicdoc loaded, for the tests.
 *
 * startServer() runs Debian's redis-server on a free 127.0.0.1 port in a fresh
 * directory (under $ATOMICDOC_TMP when set, as scripts/test.sh sets it, else the
 * system's temporary directory), waits until it answers PING (polling with a
 * deadline), and returns a handle whose stop() ends it by PID (SIGTERM, then SIGKILL
 * after 5 s) and removes the directory. Servers still running when the test process
 * exits, whatever the reason, are SIGKILLed from an 'exit' hook. The module comes
 * from $ATOMICDOC_MODULE, default ../../build/atomicdoc.so from clients/node.
 * startCluster() makes a 3-primary Redis Cluster of such servers.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const PACKAGE_ROOT = resolve(__dirname, '..', '..');
export const MODULE = process.env.ATOMICDOC_MODULE
  ? resolve(process.env.ATOMICDOC_MODULE)
  : resolve(PACKAGE_ROOT, '..', '..', 'build', 'atomicdoc.so');

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) {
    try {
      process.kill(c.pid as number, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

export interface Server {
  port: number;
  pid: number;
  dir: string;
  url: string;
  stop(): Promise<void>;
}

/** A port the OS says is free now (one we then try; startServer retries on a clash). */
function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const s = createServer();
    s.once('error', () => ok(false));
    s.listen(port, '127.0.0.1', () => s.close(() => ok(true)));
  });
}

/** One PING over a raw socket: true when the server answered +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const sock = new Socket();
    let data = '';
    const done = (v: boolean) => {
      sock.destroy();
      ok(v);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('error', () => done(false));
    sock.on('data', (b) => {
      data += b.toString();
      if (data.includes('\r\n')) done(data.startsWith('+PONG'));
    });
    sock.connect(port, '127.0.0.1', () => sock.write('PING\r\n'));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startOn(port: number, extra: string[]): Promise<Server | 'port-taken'> {
  if (!existsSync(MODULE)) throw new Error(`atomicdoc module not found at ${MODULE} (run make, or set ATOMICDOC_MODULE)`);
  const base = process.env.ATOMICDOC_TMP || tmpdir();
  const dir = mkdtempSync(join(base, 'node-client-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
    '--logfile', join(dir, 'redis.log'), '--loadmodule', MODULE, ...extra];
  const child = spawn('redis-server', args, { cwd: dir, stdio: 'ignore' });
  running.add(child);
  let exited = false;
  child.once('exit', () => {
    exited = true;
    running.delete(child);
  });
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const deadline = Date.now() + 5000;
      while (!exited && Date.now() < deadline) await sleep(20);
      if (!exited) child.kill('SIGKILL');
      while (!exited) await sleep(20);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    if (exited) break;
    if (await ping(port)) {
      return { port, pid: child.pid as number, dir, url: `redis://127.0.0.1:${port}`, stop };
    }
    await sleep(25);
  }
  const log = existsSync(join(dir, 'redis.log')) ? readFileSync(join(dir, 'redis.log'), 'utf8') : '';
  await stop();
  if (/Address already in use/.test(log)) return 'port-taken';
  throw new Error(`redis-server on port ${port} did not start:\n${log.slice(-2000)}`);
}

/** A redis-server with atomicdoc on a free port (see the file comment). */
export async function startServer(extra: string[] = []): Promise<Server> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const s = await startOn(await freePort(), extra);
    if (s !== 'port-taken') return s;
  }
  throw new Error('no free port for redis-server after 5 attempts');
}

export interface Cluster {
  nodes: Server[];
  stop(): Promise<void>;
}

/**
 * Three primaries, no replicas, all 16384 slots assigned; resolves once every node
 * says cluster_state:ok. Ports are taken below the ephemeral range with their bus port
 * (port + 10000) free too, as scripts/cluster.sh does.
 */
export async function startCluster(): Promise<Cluster> {
  const nodes: Server[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  try {
    while (nodes.length < 3) {
      const port = 10000 + Math.floor(Math.random() * 12700);
      if (!(await portIsFree(port)) || !(await portIsFree(port + 10000))) continue;
      const s = await startOn(port, ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
        '--cluster-node-timeout', '2000']);
      if (s !== 'port-taken') nodes.push(s);
    }
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 60000 });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${create.stdout}\n${create.stderr}`);
    const deadline = Date.now() + 30000;
    for (;;) {
      const states = nodes.map((n) =>
        spawnSync('redis-cli', ['-p', String(n.port), 'CLUSTER', 'INFO'], { encoding: 'utf8' }).stdout);
      if (states.every((s) => /cluster_state:ok/.test(s) && /cluster_known_nodes:3/.test(s))) break;
      if (Date.now() > deadline) throw new Error(`cluster not ok after 30 s:\n${states.join('\n')}`);
      await sleep(100);
    }
    return { nodes, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
