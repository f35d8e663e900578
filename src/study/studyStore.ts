/**
 * A study's folder: one JSON file per finished cell (cells/<id>.json, written atomically, named
 * by the cell and holding its definition's hash), an append-only journal of what happened
 * (journal.ndjson), and a lock so that two runs never work on one folder at once.
 *
 * A cell counts as done when its file exists and holds the current hash; a file with another
 * hash is an edited cell, and is rerun and replaced. Because every file is written by rename,
 * a run killed at any instant leaves each cell either done or not started, never half-written.
 */
import { mkdir, open, readFile, readdir, unlink, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import os from 'node:os';
import { writeJsonAtomic } from '../core/atomicWrite.js';
import { FlowsamplerError } from '../core/errors.js';
import type { CellDef } from './cells.js';
import type { CellResult } from './cellRun.js';

export interface JournalEvent {
  event: 'run-start' | 'run-end' | 'done' | 'failed' | 'enqueued';
  cell?: string;
  hash?: string;
  [k: string]: unknown;
}

export class StudyStore {
  readonly cellsDir: string;
  private lockPath: string;

  private constructor(readonly dir: string) {
    this.cellsDir = join(dir, 'cells');
    this.lockPath = join(dir, '.lock');
  }

  /** Opens (creating) the folder and takes its lock; a live lock of another process is an error. */
  static async open(dir: string): Promise<StudyStore> {
    const s = new StudyStore(dir);
    try {
      await mkdir(s.cellsDir, { recursive: true });
    } catch (e) {
      throw new FlowsamplerError(`cannot create the study folder ${dir} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    await s.lock();
    return s;
  }

  private async lock(): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const h = await open(this.lockPath, 'wx');
        await h.writeFile(JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() }));
        await h.close();
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const holder = await readFile(this.lockPath, 'utf8').then((t) => JSON.parse(t) as { pid: number; host: string }).catch(() => null);
        if (holder && holder.host === os.hostname() && isAlive(holder.pid)) {
          throw new FlowsamplerError(`another study run (pid ${holder.pid}) is using ${this.dir}; wait for it or stop it`);
        }
        // A lock left by a run that died (or unreadable): take it over.
        await unlink(this.lockPath).catch(() => undefined);
      }
    }
    throw new FlowsamplerError(`cannot lock the study folder ${this.dir}`);
  }

  async close(): Promise<void> {
    await unlink(this.lockPath).catch(() => undefined);
  }

  cellPath(id: string): string {
    return join(this.cellsDir, `${id}.json`);
  }

  /** The stored result of `cell` if it is current (same hash), else null. */
  async read(cell: CellDef): Promise<CellResult | null> {
    const text = await readFile(this.cellPath(cell.id), 'utf8').catch(() => null);
    if (text === null) return null;
    try {
      const r = JSON.parse(text) as CellResult;
      return r.hash === cell.hash ? r : null;
    } catch {
      return null; // not ours (atomic writes never leave a torn file): recompute it
    }
  }

  /** Current results by cell id, for the cells that have one. */
  async readAll(cells: CellDef[]): Promise<Map<string, CellResult>> {
    const out = new Map<string, CellResult>();
    for (const c of cells) {
      const r = await this.read(c);
      if (r) out.set(c.id, r);
    }
    return out;
  }

  /** Files in cells/ that belong to no cell of the study (removed targets, samplers or seeds). */
  async strays(cells: CellDef[]): Promise<string[]> {
    const known = new Set(cells.map((c) => `${c.id}.json`));
    return (await readdir(this.cellsDir)).filter((f) => f.endsWith('.json') && !known.has(f));
  }

  async write(result: CellResult, extra: Record<string, unknown> = {}): Promise<void> {
    await writeJsonAtomic(this.cellPath(result.id), result);
    await this.journal({ event: 'done', cell: result.id, hash: result.hash, ...extra });
  }

  /** One JSON line per event, appended (short lines: each append lands whole). */
  async journal(e: JournalEvent): Promise<void> {
    await appendFile(join(this.dir, 'journal.ndjson'), JSON.stringify({ time: new Date().toISOString(), pid: process.pid, ...e }) + '\n');
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
