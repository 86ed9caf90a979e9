/**
 * The client-marker gate (CM-*): which operations a caller may perform depends only on its
 * marker, and the marker only on the credential — an API key is `Sdk`, a device-flow token `Cli`,
 * a web authorization-code token `Web` — never on anything else the request says, and it survives
 * rotation. Pure.
 */
export type { ClientMarker } from '../spec/wire.js';
import type { ClientMarker } from '../spec/wire.js';
import type { RequirementId } from '../spec/requirements.js';

/** CM-01 … CM-03: a system (core) field's metadata may be changed by `Web` callers only. */
export function mayUpdateSystemFieldMetadata(marker: ClientMarker): boolean {
  return marker === 'Web';
}

/** CM-05: a system list field's values may be updated by every caller. */
export function mayUpdateSystemListValues(_marker: ClientMarker): boolean {
  return true;
}

/** The requirement that states the gate decision for a marker. */
export function gateRequirement(marker: ClientMarker): 'CM-01' | 'CM-02' | 'CM-03' {
  return marker === 'Sdk' ? 'CM-01' : marker === 'Cli' ? 'CM-02' : 'CM-03';
}

/** A caller of the model: its marker and how many rotations its family went through. */
export interface Caller {
  readonly marker: ClientMarker;
  generation: number;
}

export class MarkerGateModel {
  readonly callers: Caller[] = [];

  addCaller(marker: ClientMarker): Caller {
    const caller = { marker, generation: 0 };
    this.callers.push(caller);
    return caller;
  }

  /** CM-04: rotation keeps the family's marker. */
  rotate(caller: Caller): void {
    caller.generation += 1;
  }

  /**
   * The requirement that a wrong gate decision for this caller violates: CM-07 when the request
   * claimed another marker, CM-04 when the caller's token came from a rotation, else CM-01..03.
   */
  requirementFor(caller: Caller, spoofed: boolean): RequirementId {
    if (spoofed) return 'CM-07';
    if (caller.generation > 0 && caller.marker !== 'Sdk') return 'CM-04';
    return gateRequirement(caller.marker);
  }
}
