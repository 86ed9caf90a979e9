/**
 * `--image IMAGE`: the target as a container, through testcontainers (imported lazily: most runs
 * never need it). Host networking keeps all traffic on loopback; Ryuk is disabled (no image can be
 * pulled on machines like CI's), so the harness stops and removes its containers itself.
 */
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { Redactor } from '../engine/redact.js';
import { sleep } from '../engine/limits.js';
import type { ConsoleOutput } from '../run/console.js';
import { TargetUnusableError } from '../run/common.js';
import { answers, LogTail, refuseIfAlreadyAnswering, type ServerTargetOptions, type StartedTarget } from './launch.js';

export const PREFLIGHT_TIMEOUT_MS = 3000;

/**
 * Asks the container engine for `/_ping` within `timeoutMs`; resolves to a one-line reason when it
 * does not answer (null when it does). `DOCKER_HOST` is honoured (unix:// and tcp:// forms).
 */
export function preflightContainerEngine(timeoutMs = PREFLIGHT_TIMEOUT_MS): Promise<string | null> {
  const host = process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
  let target: http.RequestOptions;
  try {
    target = host.startsWith('unix://')
      ? { socketPath: host.slice('unix://'.length), path: '/_ping' }
      : (() => {
          const u = new URL(host.replace(/^tcp:/, 'http:'));
          return { host: u.hostname, port: Number(u.port || 2375), path: '/_ping' };
        })();
  } catch {
    return Promise.resolve(`DOCKER_HOST=${host} is not a unix:// or tcp:// address`);
  }
  return new Promise((resolve) => {
    let settled = false;
    const settle = (reason: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(reason);
    };
    // One deadline for the whole exchange (a socket that accepts but never answers included).
    const timer = setTimeout(() => settle(`no container engine answered at ${host} within ${timeoutMs / 1000} s`), timeoutMs);
    const req = http.get(target, (res) => {
      res.resume();
      res.on('end', () => settle(res.statusCode === 200 ? null : `the container engine at ${host} answered ${res.statusCode} to /_ping`));
      res.on('error', () => settle(`the container engine at ${host} broke off its answer`));
    });
    req.on('error', (err: NodeJS.ErrnoException) => settle(`no container engine at ${host} (${err.code ?? err.message})`));
  });
}

export async function startContainer(options: ServerTargetOptions, redactor: Redactor, output: ConsoleOutput, signal: AbortSignal): Promise<StartedTarget> {
  const problem = await preflightContainerEngine();
  if (problem) throw new TargetUnusableError(`--image needs a container engine: ${problem}`);
  // Ryuk (the reaper container) would have to be pulled; the harness removes its container itself.
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  // With host networking the target is on this machine's loopback. Without this, testcontainers
  // run inside a container (/.dockerenv) looks up the bridge network's gateway, or starts an
  // alpine container to find it: both are wrong for host networking, the latter needs a pull.
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
  let testcontainers: typeof import('testcontainers');
  try {
    testcontainers = await import('testcontainers');
  } catch (error) {
    throw new TargetUnusableError(`--image needs the optional dependency testcontainers: ${firstLine(error)}`);
  }
  const port = options.imagePort ?? 7070;
  const baseUrl = options.baseUrl ?? `http://127.0.0.1:${port}`;
  const readyUrl = options.readyUrl ?? baseUrl;
  await refuseIfAlreadyAnswering(readyUrl, '--image');
  output.info(`starting the target container ${options.image} (host network, port ${port})`);
  const log = new LogTail(redactor);
  let logEnded = false;
  let stopping = false;
  let container: Awaited<ReturnType<InstanceType<typeof testcontainers.GenericContainer>['start']>>;
  try {
    container = await new testcontainers.GenericContainer(options.image!)
      .withNetworkMode('host')
      .withEnvironment({ PORT: String(port), ...(options.imageEnv ?? {}) })
      .withLogConsumer((stream) => {
        stream.on('data', (chunk: string | Buffer) => log.push(chunk));
        // The log stream ends when the container's main process does.
        stream.on('end', () => (logEnded = true));
        stream.on('error', () => undefined);
      })
      .withStartupTimeout(options.readyTimeout * 1000)
      .start();
  } catch (error) {
    throw new TargetUnusableError(`could not start ${options.image}: ${firstLine(error)}`);
  }
  // Without Ryuk nothing else removes the container should the process end abruptly (a second
  // Ctrl-C is process.exit): a last synchronous attempt through the Docker CLI, if there is one.
  const removeOnExit = () => {
    try {
      execFileSync('docker', ['rm', '-f', container.getId()], { stdio: 'ignore', timeout: 5000 });
    } catch {
      // best effort
    }
  };
  process.once('exit', removeOnExit);
  const stop = async () => {
    stopping = true;
    process.off('exit', removeOnExit);
    await container.stop({ timeout: 2000, remove: true }).catch(() => undefined);
  };
  const deadline = Date.now() + options.readyTimeout * 1000;
  while (!(await answers(readyUrl))) {
    if (logEnded || Date.now() > deadline || signal.aborted) {
      // Give the log stream a moment to deliver the container's last words.
      await sleep(200);
      const why = logEnded ? 'exited before answering' : signal.aborted ? 'was interrupted while starting' : `did not answer within ${options.readyTimeout} s (--ready-timeout)`;
      await stop();
      throw new TargetUnusableError(`the container ${options.image} ${why} at ${readyUrl}: ${log.tail(3).join(' | ') || '(no output)'}`);
    }
    await sleep(200, signal);
  }
  return {
    baseUrl,
    description: `container ${options.image}`,
    logTail(always) {
      const died = logEnded && !stopping;
      if (!always && !died) return [];
      return [died ? `the target container exited during the run; its last lines:` : 'target container log (last lines):', ...log.tail()];
    },
    stop,
  };
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
