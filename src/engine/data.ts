/**
 * Realistic generated data. Names come from @faker-js/faker seeded by an integer that fast-check
 * generates, so every value is a pure function of the run's seed and path: a run replays exactly,
 * and counterexamples print as plain strings ("'Optimal Pixel deploy bot'").
 */
import type { Faker } from '@faker-js/faker';
// The English-only entry point: the same generator (the same values for every seed) for a third
// of the import time, paid by every CLI process the suite starts.
import { faker } from '@faker-js/faker/locale/en';
import fc from 'fast-check';

function seeded<T>(make: (f: Faker) => T): fc.Arbitrary<T> {
  return fc.integer({ min: 0, max: 0x7fffffff }).map((seed) => {
    faker.seed(seed);
    return make(faker);
  });
}

const KEY_ROLES = ['deploy bot', 'CI runner', 'sync agent', 'nightly export', 'metrics scraper', 'release pipeline', 'backup job'];

/** API-key names such as "Optimal Pixel CI runner". */
export const keyName = seeded((f) => `${f.hacker.adjective()} ${f.hacker.noun()} ${f.helpers.arrayElement(KEY_ROLES)}`.replace(/^\w/, (c) => c.toUpperCase()));

/** Person names, e.g. for audit-style key names ("Key of Maria Lopez"). */
export const personName = seeded((f) => f.person.fullName());

/** Tenant subdomains: 3–20 lowercase alphanumerics and hyphens (Ekso onboarding rules). */
export const tenantName = seeded((f) =>
  f.company
    .name()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 20)
    .replace(/-+$/g, '')
    .padEnd(3, 'x'),
);

/** A field description as an admin would write it. */
export const fieldDescription = seeded((f) => f.lorem.sentence({ min: 4, max: 10 }));

/** A list value label ("Critical", "Blocked", …). */
export const listValueLabel = seeded((f) => f.helpers.arrayElement(['Critical', 'Blocked', 'Urgent', 'Someday', 'Waiting on customer', 'In review', 'Escalated', f.word.adjective()]));

/** Environment names for token-store keys. */
export const environmentName = fc.constantFrom('default', 'production', 'staging', 'dev', 'eu-west');

/** Client ids for token-store keys. */
export const clientIdName = fc.constantFrom('ekso-cli', 'ekso-sdk', 'acme-integration', 'reporting-tool');
