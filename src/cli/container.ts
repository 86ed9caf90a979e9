/**
 * `--image IMAGE`: the target as a container, through testcontainers (imported lazily: most runs
 * never need it). Host networking keeps all traffic on loopback; Ryuk is disabled (no image can be
 * pulled on machines like CI's), so the harness stops its containers itself.
 */
import http from 'node:http';
import type { Redactor } from '../engine/redact.js';
import { sleep } from '../engine/limits.js';
import type { ConsoleOutput } from './console.js';
import { TargetUnusableError } from './run-common.js';
import type { ServerTargetOptions, StartedTarget } from './targets.js';

/** Asks the container engine for `/_ping` within `timeoutMs`; resolves to a reason when it does not answer. */
export function preflightContainerEngine(timeoutMs = 3000): Promise<string | null> {
  const host = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  const target: http.RequestOptions = host.startsWith('unix://')
    ? { socketPath: host.slice('unix://'.length), path: '/_ping' }
    : (() => {
        const u = new URL(host.replace(/^tcp:/, 'http:'));
        return { host: u.hostname, port: Number(u.port || 2375), path: '/_ping' };
      })();
  return new Promise((resolve) => {
    const req = http.get({ ...target, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? null : `the container engine at ${host} answered ${res.statusCode}`);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(`no container engine answered at ${host} within ${timeoutMs / 1000} s`);
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(`no container engine at ${host} (${err.code ?? err.message})`));
  });
}

export async function startContainer(options: ServerTargetOptions, redactor: Redactor, output: ConsoleOutput, signal: AbortSignal): Promise<StartedTarget> {
  const problem = await preflightContainerEngine();
  if (problem) throw new TargetUnusableError(`--image needs a container engine: ${problem}`);
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  let testcontainers: typeof import('testcontainers');
  try {
    testcontainers = await import('testcontainers');
  } catch (error) {
    throw new TargetUnusableError(`--image needs the optional dependency testcontainers: ${(error as Error).message}`);
  }
  const port = options.imagePort ?? 7070;
  const baseUrl = options.baseUrl ?? `http://127.0.0.1:${port}`;
  output.info(`starting the target container ${options.image} (host network, port ${port})`);
  const lines: string[] = [];
  let container: Awaited<ReturnType<InstanceType<typeof testcontainers.GenericContainer>['start']>>;
  try {
    container = await new testcontainers.GenericContainer(options.image!)
      .withNetworkMode('host')
      .withEnvironment({ PORT: String(port), ...(options.imageEnv ?? {}) })
      .withLogConsumer((stream) => {
        stream.on('data', (line: string | Buffer) => {
          lines.push(String(line).trimEnd());
          if (lines.length > 200) lines.splice(0, 100);
        });
      })
      .withStartupTimeout(options.readyTimeout * 1000)
      .start();
  } catch (error) {
    throw new TargetUnusableError(`could not start ${options.image}: ${(error as Error).message.split('\n')[0]}`);
  }
  const deadline = Date.now() + options.readyTimeout * 1000;
  const readyUrl = options.readyUrl ?? baseUrl;
  while (!(await answers(readyUrl))) {
    if (Date.now() > deadline || signal.aborted) {
      await container.stop({ timeout: 1000 }).catch(() => undefined);
      throw new TargetUnusableError(`the container did not answer at ${readyUrl} within ${options.readyTimeout} s`);
    }
    await sleep(200, signal);
  }
  const tail = () => lines.slice(-40).map((l) => redactor.text(l));
  return {
    baseUrl,
    description: `container ${options.image}`,
    logTail: (always) => (always ? ['target container log (last lines):', ...tail()] : []),
    async stop() {
      await container.stop({ timeout: 2000 }).catch(() => undefined);
    },
  };
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}
