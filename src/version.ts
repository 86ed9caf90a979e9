/** The harness's version, as in package.json (test/cli/surface.test.ts keeps the two equal). */
export const TOOL_VERSION = '0.1.0';
