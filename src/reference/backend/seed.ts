/**
 * What a fresh reference backend contains: two users, the public OAuth clients and a small
 * field catalogue with core (system) and custom list fields for the marker gate (CM-*).
 */
import type { ClientRecord, FieldCollectionRecord, SeedData, UserRecord } from './store.js';

export const USERS: readonly UserRecord[] = [
  { id: 'admin', email: 'admin@example.test', superAdmin: true },
  { id: 'user', email: 'user@example.test', superAdmin: false },
];

/**
 * Choice: the three public clients may use every grant; the marker of a family comes from the
 * grant that issued it (device flow → `Cli`, authorization code → `Web`), never from the client
 * id. CONTRACT §2 lets a harness ask for a `Web` family bound to its own `--client-id`
 * (default `ekso-cli`), which requires exactly this.
 */
export const PUBLIC_CLIENTS: readonly ClientRecord[] = [
  { id: 'ekso-cli', name: 'Ekso CLI', redirectUris: [], dynamic: false, createdAt: 0 },
  { id: 'ekso-web', name: 'Ekso web app', redirectUris: [], dynamic: false, createdAt: 0 },
  { id: 'ekso-sdk', name: 'Ekso SDK', redirectUris: [], dynamic: false, createdAt: 0 },
];

export function seedFields(): FieldCollectionRecord {
  return {
    typeList: [
      {
        id: 'fld_priority',
        name: 'Priority',
        description: 'How urgent the item is',
        isCore: true,
        multiSelect: false,
        data: [
          { id: 'low', name: 'Low' },
          { id: 'medium', name: 'Medium' },
          { id: 'high', name: 'High' },
        ],
        defaultValue: 'medium',
      },
      {
        id: 'fld_status',
        name: 'Status',
        description: 'Where the item is in its workflow',
        isCore: true,
        multiSelect: false,
        data: [
          { id: 'open', name: 'Open' },
          { id: 'in_progress', name: 'In progress' },
          { id: 'done', name: 'Done' },
        ],
        defaultValue: 'open',
      },
      {
        id: 'fld_component',
        name: 'Component',
        description: 'Custom field: the part of the product concerned',
        isCore: false,
        multiSelect: true,
        data: [
          { id: 'backend', name: 'Backend' },
          { id: 'frontend', name: 'Frontend' },
        ],
        defaultValue: null,
      },
    ],
    typeText: [
      { id: 'fld_title', name: 'Title', description: 'Short summary', isCore: true, maxLength: 200 },
      { id: 'fld_notes', name: 'Notes', description: 'Custom free text', isCore: false, maxLength: 4000 },
    ],
  };
}

export function seedData(): SeedData {
  return { users: [...USERS], clients: [...PUBLIC_CLIENTS], fields: seedFields() };
}
