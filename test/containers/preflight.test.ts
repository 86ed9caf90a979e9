/**
 * `--image` needs a container engine: a 3-second preflight (`/_ping`) gives a one-line error and
 * exit 3 when none answers, before testcontainers is even loaded. No engine is needed here.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREFLIGHT_TIMEOUT_MS, preflightContainerEngine } from '../../src/targets/container.js';
import { CLI, ROOT, freePort, requireDist } from '../ci/helpers.js';

let dir: string;
const savedHost = process.env.DOCKER_HOST;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ekso-preflight-'));
});

afterAll(async () => {
  if (savedHost === undefined) delete process.env.DOCKER_HOST;
  else process.env.DOCKER_HOST = savedHost;
  await rm(dir, { recursive: true, force: true });
});

/** A unix socket that accepts connections and never answers (a hung engine). */
async function silentSocket(path: string): Promise<net.Server> {
  const server = net.createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return server;
}

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('the container engine preflight', () => {
  it('waits 3 seconds by default', () => {
    expect(PREFLIGHT_TIMEOUT_MS).toBe(3000);
  });

  it('names a missing socket', async () => {
    process.env.DOCKER_HOST = `unix://${join(dir, 'no-engine.sock')}`;
    expect(await preflightContainerEngine()).toBe(`no container engine at unix://${join(dir, 'no-engine.sock')} (ENOENT)`);
  });

  it('gives up on an engine that accepts but never answers', async () => {
    const path = join(dir, 'silent.sock');
    const server = await silentSocket(path);
    try {
      process.env.DOCKER_HOST = `unix://${path}`;
      expect(await preflightContainerEngine(300)).toBe(`no container engine answered at unix://${path} within 0.3 s`);
    } finally {
      server.close();
    }
  });

  it('honours tcp:// hosts, and accepts an engine that answers /_ping', async () => {
    const port = await freePort();
    process.env.DOCKER_HOST = `tcp://127.0.0.1:${port}`;
    expect(await preflightContainerEngine()).toMatch(/\(ECONNREFUSED\)$/);
    const engine = http.createServer((req, res) => res.writeHead(req.url === '/_ping' ? 200 : 404).end('OK'));
    await new Promise<void>((resolve) => engine.listen(port, '127.0.0.1', resolve));
    try {
      expect(await preflightContainerEngine()).toBeNull();
    } finally {
      engine.close();
    }
  });

  it('--image without an engine: one line, exit 3', async () => {
    requireDist();
    const socket = join(dir, 'absent.sock');
    const { code, stderr } = await runCli(['--image', 'ekso-conformance-reference:local', '--out', join(dir, 'out'), '--reporter', 'json', '--quiet'], { DOCKER_HOST: `unix://${socket}` });
    expect(code).toBe(3);
    const lines = stderr.trim().split('\n');
    expect(lines[0]).toBe(`ekso-conformance: --image needs a container engine: no container engine at unix://${socket} (ENOENT)`);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('--image with a hung engine: exit 3 after the preflight, not a hang', async () => {
    requireDist();
    const path = join(dir, 'hung.sock');
    const server = await silentSocket(path);
    try {
      const { code, stderr } = await runCli(['--image', 'ekso-conformance-reference:local', '--out', join(dir, 'out2'), '--reporter', 'json', '--quiet'], { DOCKER_HOST: `unix://${path}` });
      expect(code).toBe(3);
      expect(stderr.split('\n')[0]).toBe(`ekso-conformance: --image needs a container engine: no container engine answered at unix://${path} within 3 s`);
    } finally {
      server.close();
    }
  });
});
