/**
 * Storage of the reference backend, behind an asynchronous interface.
 *
 * Every method returns a Promise although the default store is in memory: a real backend awaits a
 * database, and the check-then-act races that matter for refresh-token rotation (RT-07) and
 * one-time codes (DF-02) only exist across an `await`. The reference keeps every decision that
 * must be atomic inside ONE store method that checks and writes in a single synchronous step
 * (`consumeRefreshToken`, `claimDeviceCode`, `claimAuthorizationCode`); the primitive getters and
 * setters exist too, so that a broken variant can rebuild the same operation as `get`, `await`,
 * `set` and reproduce the race.
 *
 * Secrets never reach the store raw: API keys, refresh tokens, device codes and authorization
 * codes are keyed by their SHA-256 (hex).
 */

export type Marker = 'Web' | 'Cli' | 'Sdk';
/** The marker of an OAuth family: API keys (`Sdk`) have no family. */
export type FamilyMarker = 'Web' | 'Cli';

export interface UserRecord {
  id: string;
  email: string;
  superAdmin: boolean;
}

export interface ClientRecord {
  id: string;
  name: string;
  /** Registered redirect URIs; empty means "any absolute http(s) URI" (the built-in public clients). */
  redirectUris: string[];
  dynamic: boolean;
  createdAt: number;
}

export interface ApiKeyRecord {
  id: string;
  name: string;
  /** Display prefix shown in listings: a leading part of the raw key. */
  prefix: string;
  /** SHA-256 (hex) of the raw key: the raw key itself is never stored. */
  hash: string;
  userId: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  /** Insertion order, to list newest first even when two keys share a millisecond. */
  seq: number;
}

export interface FamilyRecord {
  id: string;
  userId: string;
  /** The client the family was issued to (RT-08). */
  clientId: string;
  /** Persisted on the family so that it survives rotation (CM-04). */
  marker: FamilyMarker;
  createdAt: number;
  /** Hash of the one live refresh token of the family. */
  currentHash: string;
  revokedAt: number | null;
  revokedReason: string | null;
}

export interface RefreshTokenRecord {
  hash: string;
  familyId: string;
  /** Start of this token's idle window (RT-09): each rotation issues a new token, restarting it. */
  issuedAt: number;
  /** When it was superseded by a rotation; null while it is the family's current token. */
  supersededAt: number | null;
  /** The token that replaced it (null when never rotated or discarded by a grace retry). */
  successorHash: string | null;
  /** Set when a grace retry replaced this token before it was ever used. */
  discardedAt: number | null;
}

export type DeviceCodeStatus = 'pending' | 'approved' | 'denied' | 'redeemed';

export interface DeviceCodeRecord {
  /** SHA-256 of the device code. */
  hash: string;
  /** Normalised user code (upper case, no separator), unique among live requests. */
  userCode: string;
  clientId: string;
  createdAt: number;
  expiresAt: number;
  status: DeviceCodeStatus;
  userId: string | null;
  familyId: string | null;
}

export interface AuthorizationCodeRecord {
  hash: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  /** The family issued from the code, revoked if the code is presented again (RFC 6749 §4.1.2). */
  familyId: string | null;
}

export interface ListValue {
  id: string;
  name: string;
}

export interface ListFieldRecord {
  id: string;
  name: string;
  description: string;
  isCore: boolean;
  multiSelect: boolean;
  data: ListValue[];
  defaultValue: string | null;
}

export interface TextFieldRecord {
  id: string;
  name: string;
  description: string;
  isCore: boolean;
  maxLength: number;
}

export interface FieldCollectionRecord {
  typeList: ListFieldRecord[];
  typeText: TextFieldRecord[];
}

export interface SeedData {
  users: UserRecord[];
  clients: ClientRecord[];
  fields: FieldCollectionRecord;
}

/** Outcome of the atomic rotation step. */
export type ConsumeResult =
  /** The token was the family's current one: it is now superseded by `successor`. */
  | { kind: 'rotated'; token: RefreshTokenRecord; family: FamilyRecord }
  /** Grace retry of the immediately previous token: `successor` replaced the current token. */
  | { kind: 'grace'; token: RefreshTokenRecord; family: FamilyRecord; discardedHash: string }
  /** A superseded token outside the grace rule: replay. Nothing was written. */
  | { kind: 'replay'; token: RefreshTokenRecord; family: FamilyRecord }
  /** The family was already revoked. Nothing was written. */
  | { kind: 'family-revoked'; token: RefreshTokenRecord; family: FamilyRecord }
  | { kind: 'unknown' };

export type DeviceClaimResult =
  | { kind: 'claimed'; record: DeviceCodeRecord }
  | { kind: 'pending' | 'denied' | 'expired' | 'redeemed'; record: DeviceCodeRecord }
  | { kind: 'unknown' };

export type DeviceDecisionResult = 'approved' | 'denied' | 'unknown' | 'expired' | 'not-pending';

export type AuthCodeClaimResult =
  | { kind: 'claimed'; record: AuthorizationCodeRecord }
  | { kind: 'reused' | 'expired'; record: AuthorizationCodeRecord }
  | { kind: 'unknown' };

export interface BackendStore {
  /** Writes users, clients and (only when none exist yet) the seed fields. Idempotent. */
  initialize(seed: SeedData): Promise<void>;

  getUser(id: string): Promise<UserRecord | undefined>;

  getClient(id: string): Promise<ClientRecord | undefined>;
  insertClient(client: ClientRecord): Promise<void>;

  insertApiKey(key: ApiKeyRecord): Promise<void>;
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  getApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  /** Newest first; revoked keys too unless `includeRevoked` is false. */
  listApiKeys(options?: { includeRevoked?: boolean }): Promise<ApiKeyRecord[]>;
  /** Sets `revokedAt` unless already set (idempotent); undefined for an unknown id. */
  markApiKeyRevoked(id: string, now: number): Promise<ApiKeyRecord | undefined>;

  /** Creates a family with its first refresh token. */
  insertFamily(family: FamilyRecord, firstToken: RefreshTokenRecord): Promise<void>;
  getFamily(id: string): Promise<FamilyRecord | undefined>;
  /** Primitive write (used by the atomic methods' racy re-implementations in mutants). */
  putFamily(family: FamilyRecord): Promise<void>;
  /** Revokes the family (keeps the first revocation time and reason). */
  revokeFamily(id: string, now: number, reason: string): Promise<void>;

  getRefreshToken(hash: string): Promise<RefreshTokenRecord | undefined>;
  /** Primitive write. */
  putRefreshToken(token: RefreshTokenRecord): Promise<void>;
  /**
   * The rotation transaction, atomic: looks the token up, decides (current → rotate; immediately
   * previous within `graceMs` → grace re-rotation; otherwise replay) and writes, all in one
   * synchronous step. `successor` is the new token record (its `familyId` is filled in here).
   */
  consumeRefreshToken(hash: string, successor: RefreshTokenRecord, now: number, graceMs?: number): Promise<ConsumeResult>;

  insertDeviceCode(record: DeviceCodeRecord): Promise<void>;
  getDeviceCode(hash: string): Promise<DeviceCodeRecord | undefined>;
  getDeviceCodeByUserCode(userCode: string): Promise<DeviceCodeRecord | undefined>;
  /** Approves or denies a pending, unexpired request (atomic). */
  decideDeviceCode(userCode: string, decision: 'approve' | 'deny', userId: string, now: number): Promise<DeviceDecisionResult>;
  /**
   * Redeems an approved device code once (atomic): a second claim sees `redeemed`. `familyId` is
   * recorded in the same step (the family about to be issued).
   */
  claimDeviceCode(hash: string, now: number, familyId: string): Promise<DeviceClaimResult>;

  insertAuthorizationCode(record: AuthorizationCodeRecord): Promise<void>;
  getAuthorizationCode(hash: string): Promise<AuthorizationCodeRecord | undefined>;
  /**
   * Marks the code used (atomic) and records the family about to be issued from it, so that a
   * second presentation, even a concurrent one, knows which family to revoke.
   */
  claimAuthorizationCode(hash: string, now: number, familyId: string): Promise<AuthCodeClaimResult>;

  getFields(): Promise<FieldCollectionRecord>;
  /**
   * Retention (optional: a store without it keeps everything): deletes the device and
   * authorization codes that expired before `before`, and the families `diedBefore` judges dead
   * since before `before` (given the family and its current token) with all their refresh tokens,
   * and with `revokedKeys` the API keys revoked before `before` (otherwise revoked keys are kept:
   * the audit-style listing shows them). A purged key leaves its id and revocation time behind, so
   * that revoking it again still succeeds (AK-09).
   */
  purge?(before: number, diedBefore: (family: FamilyRecord, current: RefreshTokenRecord | undefined) => boolean, options?: { revokedKeys?: boolean }): Promise<void>;
  getListField(id: string): Promise<ListFieldRecord | undefined>;
  putListField(field: ListFieldRecord): Promise<void>;
}

/**
 * A copy, so that nobody holding a record can change the store behind its back. Records of
 * primitives only (keys, families, tokens, codes: nearly every call) are copied flat, which shares
 * their strings (immutable) instead of duplicating them: a deep run stores 100,000+ records, and
 * `structuredClone` doubled their memory and was most of the store's time (issue 13).
 */
function copy<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return structuredClone(value);
  for (const field in value) {
    const v = (value as Record<string, unknown>)[field];
    if (v !== null && typeof v === 'object') return structuredClone(value);
  }
  return { ...value };
}

/** The default store: plain maps, every method resolving on the next microtask. */
export class InMemoryBackendStore implements BackendStore {
  protected readonly users = new Map<string, UserRecord>();
  protected readonly clients = new Map<string, ClientRecord>();
  protected readonly apiKeys = new Map<string, ApiKeyRecord>();
  protected readonly apiKeysByHash = new Map<string, string>();
  /** Revocation time of the purged keys, by id (`purge`): their only trace. */
  protected readonly purgedKeys = new Map<string, number>();
  /** `listApiKeys` order, kept until a key is added (null: to be sorted again). */
  protected apiKeysNewestFirst: ApiKeyRecord[] | null = null;
  protected readonly families = new Map<string, FamilyRecord>();
  protected readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  protected readonly deviceCodes = new Map<string, DeviceCodeRecord>();
  protected readonly authorizationCodes = new Map<string, AuthorizationCodeRecord>();
  protected fields: FieldCollectionRecord | null = null;

  async initialize(seed: SeedData): Promise<void> {
    for (const user of seed.users) this.users.set(user.id, copy(user));
    for (const client of seed.clients) this.clients.set(client.id, copy(client));
    if (!this.fields) this.fields = copy(seed.fields);
  }

  async getUser(id: string): Promise<UserRecord | undefined> {
    const user = this.users.get(id);
    return user && copy(user);
  }

  async getClient(id: string): Promise<ClientRecord | undefined> {
    const client = this.clients.get(id);
    return client && copy(client);
  }

  async insertClient(client: ClientRecord): Promise<void> {
    this.clients.set(client.id, copy(client));
  }

  async insertApiKey(key: ApiKeyRecord): Promise<void> {
    this.apiKeys.set(key.id, copy(key));
    this.apiKeysByHash.set(key.hash, key.id);
    this.apiKeysNewestFirst = null;
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const id = this.apiKeysByHash.get(hash);
    const key = id === undefined ? undefined : this.apiKeys.get(id);
    return key && copy(key);
  }

  async getApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    const key = this.apiKeys.get(id);
    return key && copy(key);
  }

  /**
   * Newest first. The order is kept between listings and the records copied flat (an API-key record
   * holds only primitives): a deep run lists thousands of keys hundreds of times, and sorting and
   * deep-cloning them all at every listing made the whole run quadratic (issue 13).
   */
  async listApiKeys(options: { includeRevoked?: boolean } = {}): Promise<ApiKeyRecord[]> {
    this.apiKeysNewestFirst ??= [...this.apiKeys.values()].sort((a, b) => b.createdAt - a.createdAt || b.seq - a.seq);
    const keys = options.includeRevoked === false ? this.apiKeysNewestFirst.filter((key) => key.revokedAt === null) : this.apiKeysNewestFirst;
    return keys.map((key) => ({ ...key }));
  }

  async markApiKeyRevoked(id: string, now: number): Promise<ApiKeyRecord | undefined> {
    const key = this.apiKeys.get(id);
    const purgedAt = this.purgedKeys.get(id);
    // A purged key is revoked already: what is left of it (AK-09, revoking again succeeds).
    if (!key && purgedAt !== undefined) return { id, name: '', prefix: '', hash: '', userId: '', createdAt: purgedAt, expiresAt: null, revokedAt: purgedAt, seq: -1 };
    if (!key) return undefined;
    if (key.revokedAt === null) key.revokedAt = now;
    return copy(key);
  }

  async insertFamily(family: FamilyRecord, firstToken: RefreshTokenRecord): Promise<void> {
    this.families.set(family.id, copy(family));
    this.refreshTokens.set(firstToken.hash, copy(firstToken));
  }

  async getFamily(id: string): Promise<FamilyRecord | undefined> {
    const family = this.families.get(id);
    return family && copy(family);
  }

  async putFamily(family: FamilyRecord): Promise<void> {
    this.families.set(family.id, copy(family));
  }

  async revokeFamily(id: string, now: number, reason: string): Promise<void> {
    const family = this.families.get(id);
    if (family && family.revokedAt === null) {
      family.revokedAt = now;
      family.revokedReason = reason;
    }
  }

  async getRefreshToken(hash: string): Promise<RefreshTokenRecord | undefined> {
    const token = this.refreshTokens.get(hash);
    return token && copy(token);
  }

  async putRefreshToken(token: RefreshTokenRecord): Promise<void> {
    this.refreshTokens.set(token.hash, copy(token));
  }

  async consumeRefreshToken(hash: string, successor: RefreshTokenRecord, now: number, graceMs = 0): Promise<ConsumeResult> {
    // Everything below runs without an await: no other request can interleave (RT-07).
    const token = this.refreshTokens.get(hash);
    const family = token && this.families.get(token.familyId);
    if (!token || !family) return { kind: 'unknown' };
    if (family.revokedAt !== null) return { kind: 'family-revoked', token: copy(token), family: copy(family) };

    const next: RefreshTokenRecord = { ...copy(successor), familyId: family.id };
    if (family.currentHash === token.hash) {
      token.supersededAt = now;
      token.successorHash = next.hash;
      this.refreshTokens.set(next.hash, next);
      family.currentHash = next.hash;
      return { kind: 'rotated', token: copy(token), family: copy(family) };
    }

    // Grace (policy `grace=<s>`): only the immediately previous token, i.e. the one whose
    // successor is the current token, and only within the window counted from its first
    // rotation (a retry does not extend it).
    const current = this.refreshTokens.get(family.currentHash);
    const isImmediatelyPrevious =
      token.successorHash === family.currentHash && token.supersededAt !== null && token.discardedAt === null;
    if (graceMs > 0 && current && isImmediatelyPrevious && now - (token.supersededAt ?? now) <= graceMs) {
      // Choice: a grace retry returns a fresh pair and discards the current token (which its
      // first requester may hold), so that exactly one live successor remains (RT-07 under
      // grace). Presenting the discarded token later is a replay, as under `strict`.
      current.supersededAt = now;
      current.successorHash = null;
      current.discardedAt = now;
      token.successorHash = next.hash;
      this.refreshTokens.set(next.hash, next);
      family.currentHash = next.hash;
      return { kind: 'grace', token: copy(token), family: copy(family), discardedHash: current.hash };
    }
    return { kind: 'replay', token: copy(token), family: copy(family) };
  }

  async insertDeviceCode(record: DeviceCodeRecord): Promise<void> {
    this.deviceCodes.set(record.hash, copy(record));
  }

  async getDeviceCode(hash: string): Promise<DeviceCodeRecord | undefined> {
    const record = this.deviceCodes.get(hash);
    return record && copy(record);
  }

  async getDeviceCodeByUserCode(userCode: string): Promise<DeviceCodeRecord | undefined> {
    // The newest request wins if an old, expired one happened to draw the same user code.
    let found: DeviceCodeRecord | undefined;
    for (const record of this.deviceCodes.values()) {
      if (record.userCode === userCode && (!found || record.createdAt >= found.createdAt)) found = record;
    }
    return found && copy(found);
  }

  async decideDeviceCode(userCode: string, decision: 'approve' | 'deny', userId: string, now: number): Promise<DeviceDecisionResult> {
    let record: DeviceCodeRecord | undefined;
    for (const candidate of this.deviceCodes.values()) {
      if (candidate.userCode === userCode && (!record || candidate.createdAt >= record.createdAt)) record = candidate;
    }
    if (!record) return 'unknown';
    if (now >= record.expiresAt) return 'expired';
    if (record.status !== 'pending') return 'not-pending';
    record.status = decision === 'approve' ? 'approved' : 'denied';
    record.userId = userId;
    return record.status;
  }

  async claimDeviceCode(hash: string, now: number, familyId: string): Promise<DeviceClaimResult> {
    const record = this.deviceCodes.get(hash);
    if (!record) return { kind: 'unknown' };
    if (record.status === 'redeemed') return { kind: 'redeemed', record: copy(record) };
    // Choice: expiry wins over every other state except "already redeemed": an approved but
    // unredeemed code that has expired answers expired_token (RFC 8628 §3.5).
    if (now >= record.expiresAt) return { kind: 'expired', record: copy(record) };
    if (record.status === 'pending') return { kind: 'pending', record: copy(record) };
    if (record.status === 'denied') return { kind: 'denied', record: copy(record) };
    record.status = 'redeemed';
    record.familyId = familyId;
    return { kind: 'claimed', record: copy(record) };
  }

  async insertAuthorizationCode(record: AuthorizationCodeRecord): Promise<void> {
    this.authorizationCodes.set(record.hash, copy(record));
  }

  async getAuthorizationCode(hash: string): Promise<AuthorizationCodeRecord | undefined> {
    const record = this.authorizationCodes.get(hash);
    return record && copy(record);
  }

  async claimAuthorizationCode(hash: string, now: number, familyId: string): Promise<AuthCodeClaimResult> {
    const record = this.authorizationCodes.get(hash);
    if (!record) return { kind: 'unknown' };
    if (record.usedAt !== null) return { kind: 'reused', record: copy(record) };
    if (now >= record.expiresAt) return { kind: 'expired', record: copy(record) };
    record.usedAt = now;
    record.familyId = familyId;
    return { kind: 'claimed', record: copy(record) };
  }

  async purge(before: number, diedBefore: (family: FamilyRecord, current: RefreshTokenRecord | undefined) => boolean, options: { revokedKeys?: boolean } = {}): Promise<void> {
    if (options.revokedKeys) {
      for (const [id, key] of this.apiKeys) {
        if (key.revokedAt === null || key.revokedAt >= before) continue;
        this.apiKeys.delete(id);
        this.apiKeysByHash.delete(key.hash);
        this.purgedKeys.set(id, key.revokedAt);
        this.apiKeysNewestFirst = null;
      }
    }
    for (const [hash, record] of this.deviceCodes) if (record.expiresAt < before) this.deviceCodes.delete(hash);
    for (const [hash, record] of this.authorizationCodes) if (record.expiresAt < before) this.authorizationCodes.delete(hash);
    const dead = new Map<string, boolean>();
    for (const [hash, token] of this.refreshTokens) {
      let isDead = dead.get(token.familyId);
      if (isDead === undefined) {
        const family = this.families.get(token.familyId);
        const current = family && this.refreshTokens.get(family.currentHash);
        isDead = family !== undefined && diedBefore(copy(family), current && copy(current));
        dead.set(token.familyId, isDead);
      }
      if (isDead) this.refreshTokens.delete(hash);
    }
    for (const [id, isDead] of dead) if (isDead) this.families.delete(id);
  }

  async getFields(): Promise<FieldCollectionRecord> {
    return copy(this.fields ?? { typeList: [], typeText: [] });
  }

  async getListField(id: string): Promise<ListFieldRecord | undefined> {
    const field = this.fields?.typeList.find((f) => f.id === id);
    return field && copy(field);
  }

  async putListField(field: ListFieldRecord): Promise<void> {
    if (!this.fields) this.fields = { typeList: [], typeText: [] };
    const index = this.fields.typeList.findIndex((f) => f.id === field.id);
    if (index >= 0) this.fields.typeList[index] = copy(field);
    else this.fields.typeList.push(copy(field));
  }
}
