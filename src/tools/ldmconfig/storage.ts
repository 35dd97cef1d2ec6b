// The guests' disk image files in the storage directory: what the directory must allow before
// anything is created, creating the files (empty, or installed from the OS media), and removing
// exactly what this run created when it is rolled back.

import fs from 'node:fs';
import path from 'node:path';
import type { OsImage } from '../../guest/types.js';
import { installFromMedia } from './media.js';

function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOSPC') return 'no space left on device';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'EEXIST') return 'it already exists';
  return e instanceof Error ? e.message : String(e);
}

function isDir(p: string): boolean | null {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return null;
  }
}

function writable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.W_OK | fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Why the directory cannot hold new disk images (it may not exist yet: then it must be creatable). */
export function storageDirHostProblem(dir: string): string | null {
  const state = isDir(dir);
  if (state === false) return `The storage directory ${dir} exists and is not a directory`;
  if (state === true) return writable(dir) ? null : `The storage directory ${dir} is not writable`;
  let up = path.dirname(dir);
  while (isDir(up) === null && up !== path.dirname(up)) up = path.dirname(up);
  if (isDir(up) === false) return `The storage directory ${dir} cannot be created: ${up} is not a directory`;
  if (!writable(up)) return `The storage directory ${dir} cannot be created: ${up} is not writable`;
  return null;
}

/** Every reason the disk images cannot be created: the directory, and files that would be overwritten. */
export function storageProblems(dir: string, files: string[]): string[] {
  const problem = storageDirHostProblem(dir);
  if (problem) return [problem];
  return files.filter((f) => fs.existsSync(f) || isSymlink(f)).map((f) => `Disk image ${f} already exists: ldmconfig never overwrites a file (remove it or choose another directory)`);
}

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** What this run created on disk, newest last, so a rollback removes exactly that. */
export class DiskLedger {
  readonly dirs: string[] = [];
  readonly files: string[] = [];

  /** mkdir -p, remembering each directory that did not exist. */
  makeDir(dir: string): void {
    const missing: string[] = [];
    for (let d = dir; isDir(d) === null && d !== path.dirname(d); d = path.dirname(d)) missing.unshift(d);
    for (const d of missing) {
      try {
        fs.mkdirSync(d, { mode: 0o755 });
      } catch (e) {
        throw new Error(`cannot create directory ${d}: ${errnoText(e)}`);
      }
      this.dirs.push(d);
    }
  }

  /** A sparse disk image: empty, or with the media's Solaris installed. Never replaces a file. */
  createDisk(file: string, size: number, media: { image: OsImage; hostname: string } | null): void {
    if (media) {
      try {
        installFromMedia(file, media.image, media.hostname, size);
      } catch (e) {
        throw new Error(e instanceof Error ? e.message : String(e));
      }
    } else {
      let fd: number;
      try {
        fd = fs.openSync(file, 'wx', 0o644);
      } catch (e) {
        throw new Error(`cannot create ${file}: ${errnoText(e)}`);
      }
      try {
        fs.ftruncateSync(fd, size);
      } catch (e) {
        fs.closeSync(fd);
        fs.rmSync(file, { force: true });
        throw new Error(`cannot create ${file}: ${errnoText(e)}`);
      }
      fs.closeSync(fd);
    }
    this.files.push(file);
  }

  /** Remove what was created, newest first; returns what could not be removed. */
  undo(): string[] {
    const left: string[] = [];
    for (const f of [...this.files].reverse()) {
      try {
        fs.rmSync(f, { force: true });
      } catch (e) {
        left.push(`${f}: ${errnoText(e)}`);
      }
    }
    for (const d of [...this.dirs].reverse()) {
      try {
        fs.rmdirSync(d);
      } catch (e) {
        left.push(`${d}: ${errnoText(e)}`);
      }
    }
    this.files.length = 0;
    this.dirs.length = 0;
    return left;
  }
}
