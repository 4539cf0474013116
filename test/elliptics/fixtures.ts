/** The captured Elliptics 2.26 traffic (copied from the capture into test/fixtures/elliptics). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface CapturedCmd {
  id: string;
  group_id: number;
  reserved: number;
  status: number;
  cmd: number;
  cmd_name: string;
  backend_id: number;
  trace_id: number;
  flags: number;
  trans: number;
  size: number;
}

export interface CapturedFrame {
  seq: number;
  dir: 'request' | 'reply';
  wire_length: number;
  hex: string;
  hex_complete: boolean;
  cmd: CapturedCmd;
  // The capture's decoded view; its shape depends on the command.
  payload?: Record<string, any>;
}

export interface CapturedRecord {
  name: string;
  scenario: number;
  connection: string;
  description: string;
  key?: { key: string; namespace: string; id: string };
  big_data_sha256?: string;
  request: CapturedFrame[];
  replies: CapturedFrame[];
}

export interface CapturedSession {
  name: string;
  argv: string[];
  key?: { key: string; namespace: string; id: string };
  connections: { request: CapturedFrame[]; replies: CapturedFrame[] }[];
}

const dir = fileURLToPath(new URL('../fixtures/elliptics/', import.meta.url));

export const transcripts = JSON.parse(readFileSync(`${dir}transcripts.json`, 'utf8')) as {
  meta: { write_timestamp: { tsec: number; tnsec: number } };
  records: CapturedRecord[];
};
export const cxxSessions = JSON.parse(readFileSync(`${dir}cxx-client-sessions.json`, 'utf8')) as { sessions: CapturedSession[] };

export const record = (name: string): CapturedRecord => {
  const found = transcripts.records.find((r) => r.name === name);
  if (!found) throw new Error(`no captured record ${name}`);
  return found;
};

export const session = (name: string): CapturedSession => {
  const found = cxxSessions.sessions.find((s) => s.name === name);
  if (!found) throw new Error(`no captured session ${name}`);
  return found;
};

export const frameBytes = (frame: CapturedFrame): Buffer => Buffer.from(frame.hex, 'hex');

/** Every frame of both captures, with where it came from. */
export function allFrames(): { where: string; frame: CapturedFrame }[] {
  const out: { where: string; frame: CapturedFrame }[] = [];
  for (const r of transcripts.records) for (const f of [...r.request, ...r.replies]) out.push({ where: r.name, frame: f });
  for (const s of cxxSessions.sessions)
    for (const c of s.connections) for (const f of [...c.request, ...c.replies]) out.push({ where: s.name, frame: f });
  return out;
}

/** The 25 MiB object of the capture: concat(sha256("elliptics-wire-big" + u32le(i))) for i < 819200. */
export async function bigObject(): Promise<Buffer> {
  const { createHash } = await import('node:crypto');
  const out = Buffer.alloc(819200 * 32);
  const prefix = Buffer.from('elliptics-wire-big');
  const n = Buffer.alloc(4);
  for (let i = 0; i < 819200; i++) {
    n.writeUInt32LE(i, 0);
    createHash('sha256').update(prefix).update(n).digest().copy(out, i * 32);
  }
  return out;
}
