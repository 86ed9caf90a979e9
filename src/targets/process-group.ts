/**
 * Process groups of the commands the harness starts (`--server-cmd`, token and approval commands,
 * stdio adapters): each runs detached in a group of its own, so that stopping it also stops what
 * it started (a shell's child, a server's workers).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Sends `signal` to the group; true when it exists (EPERM: it exists but is not ours, counted as alive). */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Signals the group of `pid`, or `pid` alone when it leads no group; never throws. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/**
 * Whether any live process is left in the group. `kill(-pgid, 0)` alone also counts zombies: an
 * orphan that has exited stays a zombie until init reaps it (a container's PID 1 often does not,
 * others only every few seconds), and waiting for it would always cost the whole grace period.
 * On Linux the group is therefore read from /proc, ignoring zombies; elsewhere the signal decides.
 */
export function groupAlive(pgid: number | undefined): boolean {
  if (!pgid || !signalGroup(pgid, 0)) return false;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
  }
  return false;
}
