// The image's entrypoint: `node dist/cli.js serve --test-hooks --host $HOST --port $PORT
// --rate-limit $RATE_LIMIT [args…]`. A FROM-scratch image has no shell to expand $PORT in the
// Dockerfile's ENTRYPOINT, so this does it. HOST defaults to 127.0.0.1: the image is meant for
// host networking (`--network host`, as `ekso-conformance --image` runs it), where loopback is
// the host's own. RATE_LIMIT defaults to 0 (off): the harness's bursts are not the client under test.
const env = process.env;
const args = [
  'serve',
  '--test-hooks',
  '--host', env.HOST || '127.0.0.1',
  '--port', env.PORT || '7070',
  '--rate-limit', env.RATE_LIMIT || '0',
  ...process.argv.slice(2),
];
process.argv = [process.argv[0], new URL('../dist/cli.js', import.meta.url).pathname, ...args];
await import('../dist/cli.js');
