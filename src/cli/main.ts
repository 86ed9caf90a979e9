export async function main(argv: string[]): Promise<number> {
  process.stdout.write(`ekso-conformance (skeleton) ${argv.join(' ')}\n`);
  return 0;
}
