/**
 * Backend: the client marker (CM-01 … CM-07), observed through behaviour: a system (core) list
 * field's metadata update — sending back its current values, so that nothing changes — is refused
 * with 403 for `Cli` and `Sdk` callers and allowed for `Web`; its values update is allowed for all.
 * Only CM-06 sends a real change, on the path that must be refused, and restores it if the target
 * wrongly applied it.
 */
import fc from 'fast-check';
import type { CheckContext, CheckDefinition } from '../../src/engine/check.js';
import { fieldDescription } from '../../src/engine/data.js';
import { Inconclusive, Skip, Violation } from '../../src/engine/outcomes.js';
import { modelProperty, property } from '../../src/engine/properties.js';
import { MarkerGateModel, gateRequirement, mayUpdateSystemFieldMetadata, type Caller, type ClientMarker } from '../../src/model/marker-gate.js';
import { bearer, type Credential } from '../../src/targets/backend/driver.js';
import type { BackendSession } from '../../src/targets/backend/session.js';
import type { HttpResponse } from '../../src/targets/http.js';
import { FieldCollection, parseWire, type Field } from '../../src/spec/wire.js';
import { describe, expectPermissionDenied, is2xx, tokenPair } from './support.js';
import type { RequirementId } from '../../src/spec/requirements.js';

type Check = CheckDefinition<BackendSession>;

function unavailable(session: BackendSession, marker: ClientMarker): string | null {
  return marker === 'Sdk' ? session.missingIdentity('admin') : session.unavailableFamily(marker);
}

function available(session: BackendSession): ClientMarker[] {
  return (['Sdk', 'Cli', 'Web'] as const).filter((m) => unavailable(session, m) === null);
}

/** A caller of the given marker: an API key for Sdk, a fresh family's access token otherwise. */
class MarkedCaller {
  private refreshToken: string | undefined;
  constructor(
    readonly marker: ClientMarker,
    public credential: Credential,
    refreshToken?: string,
  ) {
    this.refreshToken = refreshToken;
  }

  static async create(session: BackendSession, marker: ClientMarker): Promise<MarkedCaller> {
    if (marker === 'Sdk') return new MarkedCaller('Sdk', session.credentialOf('admin'));
    const pair = await session.newFamily(marker);
    return new MarkedCaller(marker, bearer(pair.accessToken), pair.refreshToken);
  }

  /** CM-04: rotates the family and takes the new access token. */
  async rotate(session: BackendSession, ctx: CheckContext): Promise<void> {
    if (!this.refreshToken) return;
    const response = await session.driver.refresh(this.refreshToken);
    ctx.step(`rotate the ${this.marker} family → ${response.status}`);
    const pair = tokenPair(session, response, 'CM-04');
    this.refreshToken = pair.refresh_token;
    this.credential = bearer(pair.access_token);
  }
}

/** The core list fields, as the caller sees them. */
async function coreListFields(session: BackendSession, credential: Credential, ctx: CheckContext): Promise<Field[]> {
  const response = await session.driver.fields(credential);
  ctx.step(`read the fields → ${response.status}`);
  // Choice: a 404 to an authenticated read means the target has no field collection at that path
  // (an OAuth server that is not an Ekso API): the marker gate cannot be observed there, which is
  // a configuration to name, not a behaviour to judge.
  if (response.status === 404) {
    throw new Skip(
      `the target has no field collection at GET ${session.driver.profile.fieldsPath ?? '/api/field'} (404), so the client-marker gate cannot be observed: ` +
        'set the profile keys fieldsPath, fieldUpdatePath and fieldDataPath to the target\'s',
    );
  }
  const parsed = parseWire(FieldCollection, response.json);
  if (response.status !== 200 || !parsed.ok) {
    throw new Inconclusive(`GET ${session.driver.profile.fieldsPath ?? '/api/field'} did not give a field collection: ${parsed.ok ? '' : parsed.error} ${describe(session, response)}`);
  }
  const core = parsed.value.typeList.filter((f) => f.isCore);
  if (!core.length) throw new Inconclusive('no core list field (isCore: true in typeList) to test the marker gate on');
  return core;
}

function pick<T>(items: readonly T[], n: number): T {
  return items[n % items.length]!;
}

/** What a field looks like for "nothing changed" comparisons. */
function fingerprintField(field: Field): string {
  return JSON.stringify({
    name: field.name,
    description: field.description ?? null,
    multiSelect: field.multiSelect ?? null,
    isCore: field.isCore,
    data: (field.data ?? []).map((d) => [String(d.id), d.name ?? null]),
    defaultValue: field.defaultValue ?? null,
  });
}

interface Spoof {
  label: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  body?: Record<string, unknown>;
}

const SPOOFS: readonly Spoof[] = [
  { label: 'header X-Ekso-Client: Web', headers: { 'X-Ekso-Client': 'Web' } },
  { label: 'header EksoClient: Web', headers: { EksoClient: 'Web' } },
  { label: 'header X-Client-Type: Web', headers: { 'X-Client-Type': 'Web' } },
  { label: 'query EksoClient=Web', query: { EksoClient: 'Web' } },
  { label: 'query client=Web', query: { client: 'Web' } },
  { label: 'body field EksoClient: "Web"', body: { EksoClient: 'Web' } },
  { label: 'body field clientType: "Web"', body: { clientType: 'Web', client: 'Web' } },
  { label: 'header and query together', headers: { 'X-Ekso-Client': 'Web', EksoClient: 'Web' }, query: { EksoClient: 'Web' } },
];

/** Sends the gated metadata update with the field's current values (nothing changes). */
function gatedUpdate(session: BackendSession, caller: MarkedCaller, field: Field, spoof?: Spoof): Promise<HttpResponse> {
  return session.driver.updateFieldList(caller.credential, { ...field, ...(spoof?.body ?? {}) }, {
    ...(spoof?.headers ? { headers: spoof.headers } : {}),
    ...(spoof?.query ? { query: spoof.query } : {}),
  });
}

function judgeGate(session: BackendSession, caller: { marker: ClientMarker }, response: HttpResponse, requirement: RequirementId, what: string): void {
  if (mayUpdateSystemFieldMetadata(caller.marker)) {
    if (!is2xx(response)) throw new Violation(requirement, '2xx (Web may update a system field)', describe(session, response), `${what} by a Web caller was refused`);
  } else {
    expectPermissionDenied(session, response, requirement, `${what} by a ${caller.marker} caller was not refused with 403 Permission`);
  }
}

/** CM-01 … CM-03: one check per marker, so that each is skipped with its own reason. */
function gateCheck(marker: ClientMarker): Check {
  const requirement = gateRequirement(marker);
  const verdict = mayUpdateSystemFieldMetadata(marker) ? 'is allowed' : 'gets 403 Permission';
  return {
    id: `cm.gate.${marker.toLowerCase()}`,
    title: `A ${marker} caller's system-field metadata update ${verdict}`,
    requirements: [requirement],
    defaultRuns: 3,
    // A family source that failed in the preflight makes this inconclusive, not skipped.
    skipReason: (s) => (marker === 'Sdk' ? unavailable(s, marker) : s.familyProblem([marker])),
    property: (session, ctx) =>
      property(ctx, fc.nat(), async (n) => {
        const caller = await MarkedCaller.create(session, marker);
        const field = pick(await coreListFields(session, caller.credential, ctx), n);
        const response = await gatedUpdate(session, caller, field);
        ctx.step(`${marker}: PUT the core field "${field.name}" with its current values → ${response.status}`);
        judgeGate(session, caller, response, requirement, `the metadata update of core field "${field.name}"`);
      }),
  };
}

const survivesRotation: Check = {
  id: 'cm.marker-survives-rotation',
  title: "Every access token of a family keeps the family's marker across rotations",
  requirements: ['CM-04'],
  defaultRuns: 4,
  skipReason: (s) => s.clientRefusal() ?? (available(s).some((m) => m !== 'Sdk') ? null : s.unavailableFamily('Cli')),
  property: (session, ctx) => {
    const families = available(session).filter((m) => m !== 'Sdk');
    // Every family marker in every run ("Cli stays Cli, Web stays Web"): a run that rotated only
    // one kind of family would leave the other unchecked for some seeds.
    return property(ctx, fc.tuple(fc.integer({ min: 1, max: 4 }), fc.nat()), async ([rotations, n]) => {
      for (const marker of families.length ? families : (['Cli'] as ClientMarker[])) {
        const caller = await MarkedCaller.create(session, marker);
        const field = pick(await coreListFields(session, caller.credential, ctx), n);
        // The family's own marker first (CM-02 / CM-03), so that what follows is about rotation.
        const initial = await gatedUpdate(session, caller, field);
        ctx.step(`${marker} generation 0: gated update → ${initial.status}`);
        judgeGate(session, caller, initial, gateRequirement(marker), 'before any rotation, the gated update');
        for (let generation = 1; generation <= rotations; generation++) {
          await caller.rotate(session, ctx);
          const response = await gatedUpdate(session, caller, field);
          ctx.step(`${marker} generation ${generation}: gated update → ${response.status}`);
          judgeGate(session, caller, response, 'CM-04', `after ${generation} rotation(s), the gated update`);
        }
      }
    });
  },
};

const listValues: Check = {
  id: 'cm.list-values',
  title: "Updating a system list field's values is allowed for Web, Cli and Sdk",
  requirements: ['CM-05'],
  defaultRuns: 4,
  skipReason: (s) => (available(s).length ? null : `${s.missingIdentity('admin')}; or ${s.unavailableFamily('Cli')}`),
  // Every marker in every run (allowed for all three): picking one per run left a marker
  // unchecked for some seeds.
  property: (session, ctx) =>
    property(ctx, fc.nat(), async (n) => {
      for (const marker of orSdk(available(session))) {
        const caller = await MarkedCaller.create(session, marker);
        const field = pick(await coreListFields(session, caller.credential, ctx), n);
        const response = await session.driver.updateFieldData(caller.credential, { id: field.id, data: field.data ?? [], defaultValue: field.defaultValue ?? null });
        ctx.step(`${marker}: PUT the values of core field "${field.name}" unchanged → ${response.status}`);
        if (!is2xx(response)) throw new Violation('CM-05', '2xx', describe(session, response), `a ${marker} caller could not update a system list field's values`);
      }
    }),
};

function orSdk(markers: ClientMarker[]): ClientMarker[] {
  return markers.length ? markers : ['Sdk'];
}

const refusedChangesNothing: Check = {
  id: 'cm.refused-changes-nothing',
  title: 'A refused (403) gated update changes nothing: the field reads back as before',
  requirements: ['CM-06'],
  defaultRuns: 3,
  skipReason: (s) => (available(s).some((m) => m !== 'Web') ? null : `${s.missingIdentity('admin')}; or ${s.unavailableFamily('Cli')}`),
  property: (session, ctx) => {
    const gated = available(session).filter((m) => m !== 'Web');
    return property(ctx, fc.tuple(fc.constantFrom(...(gated.length ? gated : (['Sdk'] as ClientMarker[]))), fc.nat(), fieldDescription), async ([marker, n, description]) => {
      const caller = await MarkedCaller.create(session, marker);
      const before = pick(await coreListFields(session, caller.credential, ctx), n);
      const modified = { ...before, description: `${description} (ekso-conformance probe)` };
      const response = await session.driver.updateFieldList(caller.credential, modified);
      ctx.step(`${marker}: PUT core field "${before.name}" with a new description → ${response.status}`);
      const after = (await coreListFields(session, caller.credential, ctx)).find((f) => String(f.id) === String(before.id));
      const changed = !after || fingerprintField(after) !== fingerprintField(before);
      if (!changed) {
        judgeGate(session, caller, response, gateRequirement(marker), `the metadata update of core field "${before.name}"`);
        return;
      }
      const restored = await restore(session, before, caller, ctx);
      const requirement = response.status === 403 ? 'CM-06' : gateRequirement(marker);
      throw new Violation(requirement, `403 and the field unchanged`, `${describe(session, response)}; the field changed (${restored})`, `a ${marker} caller changed a system field's metadata`);
    });
  },
};

/** Puts a wrongly changed field back, with a Web token if there is one (CM-06 hygiene). */
async function restore(session: BackendSession, original: Field, caller: MarkedCaller, ctx: CheckContext): Promise<string> {
  try {
    const web = unavailable(session, 'Web') === null ? await MarkedCaller.create(session, 'Web') : caller;
    const response = await session.driver.updateFieldList(web.credential, original);
    ctx.step(`restore the original field as ${web.marker} → ${response.status}`);
    return is2xx(response) ? `restored with a ${web.marker} token` : `could NOT restore it: ${response.status}`;
  } catch (error) {
    return `could NOT restore it: ${(error as Error).message}`;
  }
}

const spoofing: Check = {
  id: 'cm.spoofing',
  title: 'A caller cannot choose its marker with headers, query parameters or body fields',
  requirements: ['CM-07'],
  defaultRuns: 8,
  skipReason: (s) => (available(s).some((m) => m !== 'Web') ? null : `${s.missingIdentity('admin')}; or ${s.unavailableFamily('Cli')}`),
  property: (session, ctx) => {
    const gated = available(session).filter((m) => m !== 'Web');
    return property(ctx, fc.tuple(fc.constantFrom(...(gated.length ? gated : (['Sdk'] as ClientMarker[]))), fc.constantFrom(...SPOOFS), fc.nat()), async ([marker, spoof, n]) => {
      const caller = await MarkedCaller.create(session, marker);
      const field = pick(await coreListFields(session, caller.credential, ctx), n);
      // Without the claim first (CM-01 / CM-02): CM-07 is about the claim changing the decision.
      const plain = await gatedUpdate(session, caller, field);
      ctx.step(`${marker}: gated update without any claim → ${plain.status}`);
      judgeGate(session, caller, plain, gateRequirement(marker), `the metadata update of core field "${field.name}"`);
      const response = await gatedUpdate(session, caller, field, spoof);
      ctx.step(`${marker} claiming Web (${spoof.label}): gated update → ${response.status}`);
      expectPermissionDenied(session, response, 'CM-07', `a ${marker} caller claiming Web with ${spoof.label} was not refused`);
    });
  },
};

// ---------------------------------------------------------------------------------------------
// Model-based: sequences of gated updates, values updates, spoofed claims and rotations.

interface GateReal {
  session: BackendSession;
  ctx: CheckContext;
  callers: MarkedCaller[];
  fields: Field[];
}

class AddCallerCommand implements fc.AsyncCommand<MarkerGateModel, GateReal> {
  constructor(readonly marker: ClientMarker) {}
  check(model: Readonly<MarkerGateModel>): boolean {
    return model.callers.length < 4;
  }
  async run(model: MarkerGateModel, real: GateReal): Promise<void> {
    const created = await MarkedCaller.create(real.session, this.marker);
    real.callers.push(created);
    const caller = model.addCaller(this.marker);
    const index = model.callers.length - 1;
    real.ctx.step(`new ${this.marker} caller #${index}`);
    if (!real.fields.length) real.fields = await coreListFields(real.session, created.credential, real.ctx);
    // Its own marker's decision first (CM-01 … CM-03), so that a later wrong decision for this
    // caller is about what happened since: a rotation (CM-04) or a claim (CM-07).
    const field = real.fields[0]!;
    const response = await gatedUpdate(real.session, created, field);
    real.ctx.step(`caller #${index} (${this.marker}): gated update of "${field.name}" → ${response.status}`);
    judgeGate(real.session, caller, response, model.requirementFor(caller, false), `the metadata update of core field "${field.name}"`);
  }
  toString(): string {
    return `caller(${this.marker})`;
  }
}

class GatedCommand implements fc.AsyncCommand<MarkerGateModel, GateReal> {
  constructor(
    readonly who: number,
    readonly field: number,
    readonly spoof: Spoof | null,
  ) {}
  check(model: Readonly<MarkerGateModel>): boolean {
    return model.callers.length > 0;
  }
  async run(model: MarkerGateModel, real: GateReal): Promise<void> {
    const index = this.who % model.callers.length;
    const caller: Caller = model.callers[index]!;
    const field = pick(real.fields, this.field);
    const spoofed = Boolean(this.spoof) && caller.marker !== 'Web';
    if (spoofed) {
      // The same update without the claim first: CM-07 is about the claim changing the decision.
      const plain = await gatedUpdate(real.session, real.callers[index]!, field);
      real.ctx.step(`caller #${index} (${caller.marker}${caller.generation ? `, rotated ${caller.generation}×` : ''}): gated update of "${field.name}" → ${plain.status}`);
      judgeGate(real.session, caller, plain, model.requirementFor(caller, false), `the metadata update of core field "${field.name}"`);
    }
    const response = await gatedUpdate(real.session, real.callers[index]!, field, this.spoof ?? undefined);
    real.ctx.step(`caller #${index} (${caller.marker}${caller.generation ? `, rotated ${caller.generation}×` : ''})${this.spoof ? ` claiming Web (${this.spoof.label})` : ''}: gated update of "${field.name}" → ${response.status}`);
    judgeGate(real.session, caller, response, model.requirementFor(caller, spoofed), `the metadata update of core field "${field.name}"`);
  }
  toString(): string {
    return `gated(caller ${this.who}, field ${this.field}${this.spoof ? `, ${this.spoof.label}` : ''})`;
  }
}

class ValuesCommand implements fc.AsyncCommand<MarkerGateModel, GateReal> {
  constructor(
    readonly who: number,
    readonly field: number,
  ) {}
  check(model: Readonly<MarkerGateModel>): boolean {
    return model.callers.length > 0;
  }
  async run(model: MarkerGateModel, real: GateReal): Promise<void> {
    const index = this.who % model.callers.length;
    const caller = model.callers[index]!;
    const field = pick(real.fields, this.field);
    const response = await real.session.driver.updateFieldData(real.callers[index]!.credential, { id: field.id, data: field.data ?? [], defaultValue: field.defaultValue ?? null });
    real.ctx.step(`caller #${index} (${caller.marker}): values update of "${field.name}" → ${response.status}`);
    if (!is2xx(response)) throw new Violation('CM-05', '2xx', describe(real.session, response), `a ${caller.marker} caller could not update a system list field's values`);
  }
  toString(): string {
    return `values(caller ${this.who}, field ${this.field})`;
  }
}

class RotateCommand implements fc.AsyncCommand<MarkerGateModel, GateReal> {
  constructor(readonly who: number) {}
  check(model: Readonly<MarkerGateModel>): boolean {
    return model.callers.some((c) => c.marker !== 'Sdk');
  }
  async run(model: MarkerGateModel, real: GateReal): Promise<void> {
    const rotatable = model.callers.map((c, i) => [c, i] as const).filter(([c]) => c.marker !== 'Sdk');
    const [caller, index] = pick(rotatable, this.who);
    await real.callers[index]!.rotate(real.session, real.ctx);
    model.rotate(caller);
  }
  toString(): string {
    return `rotate(caller ${this.who})`;
  }
}

const gateModel: Check = {
  id: 'cm.gate.model',
  title: 'Marker gate under sequences of callers, rotations, values updates and spoofed claims',
  requirements: ['CM-01', 'CM-02', 'CM-03', 'CM-04', 'CM-05', 'CM-07'],
  requirementsFor: (s) => {
    const m = available(s);
    return <RequirementId[]>[
      ...(m.includes('Sdk') ? ['CM-01'] : []),
      ...(m.includes('Cli') ? ['CM-02'] : []),
      ...(m.includes('Web') ? ['CM-03'] : []),
      ...(m.some((x) => x !== 'Sdk') && !s.clientRefusal() ? ['CM-04'] : []),
      'CM-05',
      ...(m.some((x) => x !== 'Web') ? ['CM-07'] : []),
    ];
  },
  defaultRuns: 15,
  skipReason: (s) => (available(s).length ? null : `${s.missingIdentity('admin')}; or ${s.unavailableFamily('Cli')}`),
  property: (session, ctx) => {
    const markers = available(session);
    const commands: fc.Arbitrary<fc.AsyncCommand<MarkerGateModel, GateReal>>[] = [
      fc.constantFrom(...markers).map((m) => new AddCallerCommand(m)),
      fc.tuple(fc.nat(3), fc.nat(5), fc.option(fc.constantFrom(...SPOOFS), { freq: 2 })).map(([w, f, s]) => new GatedCommand(w, f, s)),
      fc.tuple(fc.nat(3), fc.nat(5)).map(([w, f]) => new ValuesCommand(w, f)),
    ];
    // Rotations need a client the token endpoint takes.
    if (!session.clientRefusal()) commands.push(fc.nat(3).map((w) => new RotateCommand(w)));
    return modelProperty(
      ctx,
      commands,
      async () => {
        const model = new MarkerGateModel();
        const real: GateReal = { session, ctx, callers: [], fields: [] };
        await new AddCallerCommand(markers[0]!).run(model, real);
        return { model, real };
      },
      { maxCommands: 10 },
    );
  },
};

export const CLIENT_MARKER_CHECKS: readonly Check[] = [gateCheck('Sdk'), gateCheck('Cli'), gateCheck('Web'), survivesRotation, listValues, refusedChangesNothing, spoofing, gateModel];
