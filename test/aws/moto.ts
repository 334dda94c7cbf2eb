/**
 * Test helper: one moto_server per test file, on 127.0.0.1 and a free port.
 * Also sets fake credentials and us-east-1 in process.env (the tests' env), so the standard
 * AWS chain resolves without touching any real account.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export interface Moto {
  readonly endpoint: string;
  /** POST JSON to a moto-api path (e.g. /moto-api/config). */
  api(path: string, body: unknown): Promise<void>;
  stop(): Promise<void>;
}

export function useFakeAwsEnv(): void {
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  process.env.AWS_SESSION_TOKEN = 'test';
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_DEFAULT_REGION = 'us-east-1';
  // Never read a developer's profile or reach IMDS from the tests.
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_ENDPOINT_URL;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function assertMotoInstalled(): void {
  const r = spawnSync('python3', ['-c', 'import moto.server, flask'], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`moto_server is not available (python3 -c "import moto.server" failed: ${(r.stderr || r.error?.message || '').trim()}). Install it with: pip install 'moto[server]'`);
  }
}

async function waitUntilUp(endpoint: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) { // bounded: 200 × 50 ms = 10 s
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}: ${log()}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (res.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`moto_server did not answer on ${endpoint} within 10 s: ${log()}`);
}

export async function startMoto(): Promise<Moto> {
  useFakeAwsEnv();
  assertMotoInstalled();
  const port = await freePort();
  const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4_000); });
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilUp(endpoint, child, () => stderr);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    endpoint,
    async api(path, body) {
      const res = await fetch(endpoint + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`moto ${path}: HTTP ${res.status} ${await res.text()}`);
    },
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
