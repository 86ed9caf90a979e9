/**
 * The command line (CONTRACT §1). Commander parses; every bad flag or value ends in one line on
 * stderr and exit 2, never a stack trace.
 */
import { Command, CommanderError, Option } from 'commander';
import { STRICT, type Policy } from '../model/policy.js';
import { REPORTERS, type ReporterName } from '../report/write.js';
import { ConsoleOutput } from '../run/console.js';
import * as parse from './options.js';
import { oneLine, type CommonOptions } from '../run/common.js';
import { TOOL_VERSION } from '../version.js';

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const DEFAULT_IO: Io = { stdout: process.stdout, stderr: process.stderr };

function addCommonOptions(command: Command): Command {
  return command
    .option('--out <dir>', 'report folder', './reports')
    .addOption(new Option('--reporter <list>', 'comma list of json,junit,md,html').argParser(parse.reporters).default([...REPORTERS] as ReporterName[], 'all four'))
    .option('--seed <n>', 'base seed (default: random, always printed and recorded)', parse.seed)
    .option('--num-runs <n>', 'fast-check runs per property (default: chosen per check)', parse.bounded('numRuns'))
    .option('--check <glob>', 'run only matching check ids or requirement ids (RT-*, AK-08, rt.*); comma list', parse.checkPatterns)
    .option('--max-time <sec>', 'stop starting new runs after SEC seconds (unfinished checks: inconclusive)', parse.bounded('maxTime'))
    .addOption(new Option('--policy <p>', "refresh-token policy: strict (Ekso's) or grace=<seconds>").argParser(parse.policy).default(STRICT, 'strict'))
    .option('--strict', 'SHOULD failures also fail the run')
    .option('--quiet', 'print only failures and the summary')
    .option('--verbose', 'print steps of failures and debug detail')
    .option('--no-color', 'no colours (also NO_COLOR)')
    .option('--baseline <file>', 'expected failures (check or requirement ids); a listed entry that passes fails the run as stale')
    .option('--shard <i/n>', 'run the i-th of n deterministic slices of the checks (combine with merge)', parse.shard)
    .addOption(new Option('--path <path>', 'replay: the fast-check path of a counterexample (with --check and --seed)').hideHelp(false))
    .addOption(new Option('--replay-path <replayPath>', 'replay: the fast-check replayPath of a command sequence'))
    .addOption(new Option('--tolerate <ids>', "replay: explore past these requirements' known violations (a later finding's replay names them)").argParser(parse.requirementIds));
}

/** Commander's camel-cased options → CommonOptions. */
function common(raw: Record<string, unknown>, argv: string[]): CommonOptions {
  const checkIndex = argv.findIndex((a) => a === '--check' || a.startsWith('--check='));
  const checkText = checkIndex >= 0 ? (argv[checkIndex]!.includes('=') ? argv[checkIndex]!.split('=').slice(1).join('=') : argv[checkIndex + 1]) : undefined;
  return {
    out: raw.out as string,
    reporter: raw.reporter as ReporterName[],
    ...(raw.seed !== undefined ? { seed: raw.seed as number } : {}),
    ...(raw.numRuns !== undefined ? { numRuns: raw.numRuns as number } : {}),
    ...(raw.check ? { check: raw.check as RegExp[], ...(checkText ? { checkText } : {}) } : {}),
    ...(raw.maxTime !== undefined ? { maxTime: raw.maxTime as number } : {}),
    policy: raw.policy as Policy,
    strict: Boolean(raw.strict),
    quiet: Boolean(raw.quiet),
    verbose: Boolean(raw.verbose),
    color: ConsoleOutput.colorWanted(raw.color as boolean | undefined),
    ...(raw.baseline ? { baseline: raw.baseline as string } : {}),
    ...(raw.shard ? { shard: raw.shard as { index: number; count: number } } : {}),
    ...(raw.path ? { path: raw.path as string } : {}),
    ...(raw.replayPath ? { replayPath: raw.replayPath as string } : {}),
    ...(raw.tolerate ? { tolerate: raw.tolerate as string[] } : {}),
  };
}

export function buildProgram(io: Io, run: (task: () => Promise<number>) => void, argv: string[]): Command {
  const program = new Command('ekso-conformance')
    .description('Spec-driven conformance checks of Ekso authentication: backends (the harness is the client) and SDKs (the harness is the server).')
    .version(TOOL_VERSION, '--version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // One line per error, also when commander adds a suggestion ("(Did you mean --rate?)").
      outputError: (s, write) => write(`${oneLine(s)}\n`),
    })
    .showSuggestionAfterError(true);

  addCommonOptions(
    program
      .command('backend', { isDefault: true })
      .description('test a backend (the default command); with no target option, the embedded reference backend')
      .addOption(new Option('--base-url <url>', "the backend's root URL (API under /api, OAuth endpoints at the root)").env('EKSO_BASE_URL').argParser(parse.url))
      .addOption(new Option('--tenant <name>', 'without --base-url: https://{tenant}.ekso.app').env('EKSO_TENANT').argParser(parse.tenant))
      .addOption(new Option('--admin-key <key>', 'API key of a super-admin').env('EKSO_ADMIN_API_KEY'))
      .addOption(new Option('--user-key <key>', 'API key of a user who is not a super-admin').env('EKSO_USER_API_KEY'))
      .option('--token-command <cmd>', 'shell command printing a fresh token pair (CONTRACT §2)')
      .option('--device-approve-command <cmd>', 'shell command approving or denying a device-flow request')
      .option('--client-id <id>', 'OAuth client id', 'ekso-cli')
      .option('--other-client-id <id>', 'a second registered client id, for RT-08 (default: the profile key otherClientId, else ekso-web)')
      .option('--profile <file>', 'JSON overrides of the wire details (CONTRACT §3)')
      .option('--rate <rps>', 'request rate cap (default 40/s off loopback, none on loopback)', parse.bounded('rate'))
      .option('--concurrency <k>', 'most requests in flight at once', parse.bounded('concurrency'), 8)
      .option('--timeout <sec>', 'per request', parse.bounded('timeout'), 30)
      .option('--check-rate-limit', "opt in to ERR-04 (bursts past the target's rate limit)")
      .option('--insecure', 'allow http:// to a non-loopback host')
      .option('--server-cmd <cmd>', 'start the target as a process first (with --ready-url, --ready-timeout); stop it at the end')
      .option('--ready-url <url>', 'URL that answers once the started target is ready', parse.url)
      .option('--ready-timeout <sec>', 'how long to wait for the started target', parse.bounded('readyTimeout'), 60)
      .option('--image <image>', 'start the target as a container (testcontainers, host network)')
      .option('--image-port <n>', 'port the container listens on (host network)', parse.bounded('imagePort'))
      .addOption(new Option('--image-env <K=V>', 'environment of the container (repeatable)').argParser(parse.keyValue).default({}, 'none'))
      .option('--mutant <name>', 'test a named broken variant of the embedded reference backend (see list --mutants)'),
  ).action(async (raw: Record<string, unknown>) =>
    run(async () =>
      (await import('./backend-command.js')).runBackendCommand({
        ...common(raw, argv),
        ...(raw.baseUrl ? { baseUrl: raw.baseUrl as string } : {}),
        ...(raw.tenant ? { tenant: raw.tenant as string } : {}),
        ...(raw.adminKey ? { adminKey: raw.adminKey as string } : {}),
        ...(raw.userKey ? { userKey: raw.userKey as string } : {}),
        ...(raw.tokenCommand ? { tokenCommand: raw.tokenCommand as string } : {}),
        ...(raw.deviceApproveCommand ? { deviceApproveCommand: raw.deviceApproveCommand as string } : {}),
        clientId: raw.clientId as string,
        ...(raw.otherClientId ? { otherClientId: raw.otherClientId as string } : {}),
        ...(raw.profile ? { profile: raw.profile as string } : {}),
        ...(raw.rate !== undefined ? { rate: raw.rate as number } : {}),
        concurrency: raw.concurrency as number,
        timeout: raw.timeout as number,
        checkRateLimit: Boolean(raw.checkRateLimit),
        insecure: Boolean(raw.insecure),
        ...(raw.serverCmd ? { serverCmd: raw.serverCmd as string } : {}),
        ...(raw.readyUrl ? { readyUrl: raw.readyUrl as string } : {}),
        readyTimeout: raw.readyTimeout as number,
        ...(raw.image ? { image: raw.image as string } : {}),
        ...(raw.imagePort !== undefined ? { imagePort: raw.imagePort as number } : {}),
        imageEnv: raw.imageEnv as Record<string, string>,
        ...(raw.mutant ? { mutant: raw.mutant as string } : {}),
      }),
    ),
  );

  addCommonOptions(
    program
      .command('sdk')
      .description('test an SDK auth implementation (the harness is the server); default: the reference TypeScript SDK')
      .option('--adapter <cmd|path>', 'a shell command speaking the adapter protocol on stdio, or a .js/.mjs/.cjs/.ts module exporting createAdapter()')
      .option('--mutant <name>', 'test a named broken variant of the reference SDK (see list --mutants)')
      .option('--timeout <sec>', 'per adapter request (also the adapter\'s initialize)', parse.bounded('timeout'), 30),
  ).action(async (raw: Record<string, unknown>) =>
    run(async () => {
      const { runSdkCommand } = await import('./sdk-command.js');
      return runSdkCommand({
        ...common(raw, argv),
        ...(raw.adapter ? { adapter: raw.adapter as string } : {}),
        ...(raw.mutant ? { mutant: raw.mutant as string } : {}),
        timeout: raw.timeout as number,
      });
    }),
  );

  program
    .command('serve')
    .description('run the reference Ekso auth backend until interrupted')
    .option('--port <n>', 'port', parse.port, 7070)
    .option('--host <h>', 'host', '127.0.0.1')
    .option('--test-hooks', 'enable the CONTRACT §4 test endpoints', false)
    .option('--no-advertise-hooks', 'with --test-hooks: do not name them in discovery (your --token-command / --device-approve-command scripts call them; the harness does not)')
    .option('--no-clock-hook', 'with --test-hooks: leave out /__conformance/clock (a target without a clock hook)')
    .option('--rate-limit <rps>', 'requests per second per IP before 429 (0 = off)', parse.bounded('rateLimit'), 50)
    .option('--policy <p>', 'refresh-token policy of the backend: strict or grace=<seconds>', 'strict')
    .option('--list-revoked-keys', 'list revoked keys in GET /api/admin/api-key (audit-style; by default revocation hides them)', false)
    .option('--mutant <name>', 'serve a named broken variant (see list --mutants)')
    .action(async (raw: Record<string, unknown>) =>
      run(async () => {
        const { runServe } = await import('./serve.js');
        const { backendMutant } = await import('../mutants/index.js');
        const mutant = raw.mutant ? backendMutant(raw.mutant as string) : undefined;
        if (raw.mutant && !mutant) {
          io.stderr.write(`ekso-conformance: unknown backend mutant ${String(raw.mutant)} (see list --mutants)\n`);
          return 2;
        }
        return runServe(
          {
            port: raw.port as number,
            host: raw.host as string,
            testHooks: Boolean(raw.testHooks),
            advertiseHooks: raw.advertiseHooks !== false,
            clockHook: raw.clockHook !== false,
            rateLimit: raw.rateLimit as number,
            policy: raw.policy as string,
            listRevokedKeys: Boolean(raw.listRevokedKeys),
          },
          io,
          mutant ? { createBackend: (o) => mutant.create(o) } : {},
        );
      }),
    );

  program
    .command('adapter')
    .description('serve the reference TypeScript SDK as a stdio adapter (CONTRACT §5): the worked example for SDK authors')
    .option('--mutant <name>', 'serve a named broken variant of the reference SDK')
    .option('--no-clock', 'without the clock capability: the SDK runs on real time, as most SDKs in other languages do')
    .action(async (raw: Record<string, unknown>) =>
      run(async () => {
        const { runAdapterCommand } = await import('./adapter-command.js');
        return runAdapterCommand({ ...(raw.mutant ? { mutant: raw.mutant as string } : {}), clock: raw.clock !== false }, io);
      }),
    );

  program
    .command('list')
    .description('the requirements and the checks that cover them')
    .option('--json', 'machine-readable', false)
    .option('--mutants', 'the mutant catalogue and the requirement each breaks', false)
    .option('--markdown', 'the catalog as Markdown (docs/requirements.md)', false)
    .action(async (raw: Record<string, unknown>) =>
      run(async () => {
        const { runList } = await import('./list-command.js');
        return runList({ json: Boolean(raw.json), mutants: Boolean(raw.mutants), markdown: Boolean(raw.markdown) }, io);
      }),
    );

  program
    .command('replay')
    .description(
      're-run the failed checks of a report with their seed and path. The target and every command come from this command line, never from the report ' +
        '(a report of the embedded reference or of a --mutant needs none)',
    )
    .argument('<report.json>', 'a JSON report written by a run')
    .option('--check <id>', 'only this check')
    .option('--out <dir>', 'report folder (default: a replay folder next to the report)')
    .option('--reporter <list>', `comma list of ${REPORTERS.join(',')}`, parse.reporters, [...REPORTERS] as ReporterName[])
    .option('--quiet', 'print only failures and the summary', false)
    .option('--verbose', 'print steps of failures', false)
    .option('--no-color', 'no colours')
    .option('--accept-recorded-target', "use the report's recorded --base-url or --tenant (printed first); recorded commands are never run")
    .addOption(new Option('--base-url <url>', "backend reports: the backend's root URL").env('EKSO_BASE_URL').argParser(parse.url))
    .addOption(new Option('--tenant <name>', 'backend reports: https://{tenant}.ekso.app').env('EKSO_TENANT').argParser(parse.tenant))
    .addOption(new Option('--admin-key <key>', 'backend reports: API key of a super-admin').env('EKSO_ADMIN_API_KEY'))
    .addOption(new Option('--user-key <key>', 'backend reports: API key of a user who is not a super-admin').env('EKSO_USER_API_KEY'))
    .option('--token-command <cmd>', 'backend reports: shell command printing a fresh token pair')
    .option('--device-approve-command <cmd>', 'backend reports: shell command approving or denying a device-flow request')
    .option('--client-id <id>', 'backend reports: OAuth client id (default: the recorded one)')
    .option('--other-client-id <id>', 'backend reports: the second client id for RT-08 (default: the recorded one)')
    .option('--profile <file>', 'backend reports: JSON overrides of the wire details')
    .option('--rate <rps>', 'backend reports: request rate cap (default: the recorded one)', parse.bounded('rate'))
    .option('--concurrency <k>', 'backend reports: most requests in flight (default: the recorded one)', parse.bounded('concurrency'))
    .option('--timeout <sec>', 'per request (default: the recorded one)', parse.bounded('timeout'))
    .option('--check-rate-limit', "backend reports: opt in to ERR-04 (bursts past the target's rate limit)")
    .option('--insecure', 'backend reports: allow http:// to a non-loopback host')
    .option('--server-cmd <cmd>', 'backend reports: start the target as a process first')
    .option('--ready-url <url>', 'backend reports: URL that answers once the started target is ready', parse.url)
    .option('--ready-timeout <sec>', 'backend reports: how long to wait for the started target', parse.bounded('readyTimeout'))
    .option('--image <image>', 'backend reports: start the target as a container')
    .option('--image-port <n>', 'backend reports: port the container listens on', parse.bounded('imagePort'))
    .addOption(new Option('--image-env <K=V>', 'backend reports: environment of the container (repeatable)').argParser(parse.keyValue))
    .option('--adapter <cmd|path>', 'SDK reports: the adapter (a command or a module path)')
    .action(async (file: string, raw: Record<string, unknown>, command: Command) =>
      run(async () => {
        const { runReplay } = await import('./replay-command.js');
        const typed = new Set(Object.keys(raw).filter((key) => command.getOptionValueSource(key) === 'cli'));
        return runReplay(file, raw, io, typed);
      }),
    );

  program
    .command('merge')
    .description('combine the JSON reports of sharded runs into one set of reports')
    .argument('<reports...>', 'JSON reports of the shards')
    .option('--out <dir>', 'report folder', './reports')
    .option('--reporter <list>', `comma list of ${REPORTERS.join(',')}`, parse.reporters, [...REPORTERS] as ReporterName[])
    .action(async (files: string[], raw: Record<string, unknown>) =>
      run(async () => {
        const { runMerge } = await import('./merge-command.js');
        return runMerge(files, { out: raw.out as string, reporter: raw.reporter as ReporterName[] }, io);
      }),
    );

  return program;
}

export async function main(argv: string[], io: Io = DEFAULT_IO): Promise<number> {
  let task: (() => Promise<number>) | undefined;
  const program = buildProgram(io, (t) => (task = t), argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every parse error has already been printed as one line.
      return error.exitCode === 0 ? 0 : 2;
    }
    throw error;
  }
  if (!task) return 0;
  return task();
}
